import { planSgBaseline } from "./baseline";
import type { SecurityGroup } from "./types";
import type { PortSpec } from "../types";

/**
 * The ingress rules of `groups` that open any of `ports` to some source: what keeps a VM exposed
 * on a port its policy selects. They are exactly the rules a baseline would have to revoke, so
 * this asks the baseline planner, leaving every group alone, what it would have left open.
 */
export function sgOpenings(groups: readonly SecurityGroup[], ports: readonly PortSpec[]): ReturnType<typeof planSgBaseline>["leftOpen"] {
  return planSgBaseline({ policy: "", groups, ports, leaveAlone: groups.map((g) => g.GroupId ?? "") }).leftOpen;
}
