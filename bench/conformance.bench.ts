import { replayAll } from "../test/conformance/replay";
import type { Scenario } from "./harness";

/**
 * The conformance figure: every in-scope exchange recorded from the real Azure Resource Manager
 * (specs/recordings/) replayed against the local endpoint; units are the exchanges, the note how
 * many conform by the rules in docs/emulator-conformance.md.
 */
export const scenarios: Scenario[] = [
  {
    api: "ARM",
    name: "conformance to recorded Azure traffic",
    run: async () => {
      const outcomes = await replayAll();
      const conforming = outcomes.filter((o) => o.differences.length === 0).length;
      const writes = outcomes.filter((o) => !o.request.startsWith("GET ")).length;
      const percent = ((100 * conforming) / outcomes.length).toFixed(1);
      return { calls: outcomes.length, writes, units: outcomes.length, note: `${conforming}/${outcomes.length} exchanges conform (${percent} %)` };
    },
  },
];
