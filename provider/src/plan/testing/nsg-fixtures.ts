import type { Nsg, NsgRule } from "../nsg/types";

/** A user rule for tests: inbound, any source port, the given fields over sensible defaults. */
export function userRule(name: string, priority: number, fields: Partial<NsgRule> = {}): NsgRule {
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "22",
    ...fields,
  };
}

export function nsg(id: string, securityRules: NsgRule[] = []): Nsg {
  return { id, securityRules };
}
