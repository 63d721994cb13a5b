import { JitError } from "../model/errors";
import { Policy, findPolicyVm } from "../model/policy";
import { BroadThreshold, checkThreshold } from "./broad";
import { ClassifyOptions, DEFAULT_MANAGEMENT_PORTS, Exposure, ScanResult } from "./types";

/** The options with their defaults, checked once per scan. */
export interface Settings {
  ports: readonly number[];
  threshold: BroadThreshold;
}

export function settings(options: ClassifyOptions = {}): Settings {
  const ports = [...new Set(options.ports ?? DEFAULT_MANAGEMENT_PORTS)];
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new JitError("InvalidInput", "management ports must be whole numbers from 1 to 65535, at least one", { field: "ports" });
  }
  return { ports, threshold: checkThreshold(options.broadPrefix) };
}

/** The TCP ports each registered policy selects on this VM (management ports are TCP; a `*` rule covers TCP too). */
export function coveringPolicies(vmId: string, policies: readonly Policy[]): ScanResult["policies"] {
  return policies.flatMap((policy) => {
    const vm = findPolicyVm(policy, vmId);
    const ports = vm?.ports.filter((p) => p.protocol !== "UDP").map((p) => p.number) ?? [];
    return ports.length > 0 ? [{ name: policy.name, ports }] : [];
  });
}

export function policyFor(port: number, covering: ScanResult["policies"]): string | undefined {
  return covering.find((c) => c.ports.includes(port))?.name;
}

/** The verdict and its sentence for a VM that has somewhere to put JIT rules. */
export function verdictOf(exposures: Exposure[], covering: ScanResult["policies"]): Pick<ScanResult, "verdict" | "reason"> {
  if (exposures.length > 0) {
    const ports = [...new Set(exposures.map((e) => e.port))].sort((a, b) => a - b);
    return { verdict: "Unhealthy", reason: `management port${ports.length > 1 ? "s" : ""} ${ports.join(", ")} open to broad sources without JIT: ${exposures[0].reason}` };
  }
  if (covering.length > 0) {
    const list = covering.map((c) => `"${c.name}" (${c.ports.join(", ")})`).join(", ");
    return { verdict: "Healthy", reason: `covered by JIT polic${covering.length > 1 ? "ies" : "y"} ${list}; no management port is open to a broad source` };
  }
  return { verdict: "Healthy", reason: "no management port is open to a broad source" };
}
