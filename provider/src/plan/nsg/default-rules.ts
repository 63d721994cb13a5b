import type { NsgRule } from "./types";

/** The six rules every NSG has and nobody can delete (`defaultSecurityRules`), as Azure returns them. */
export const DEFAULT_SECURITY_RULES: readonly NsgRule[] = [
  defaultRule("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork", "Allow inbound traffic from all VMs in VNET"),
  defaultRule("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*", "Allow inbound traffic from azure load balancer"),
  defaultRule("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*", "Deny all inbound traffic"),
  defaultRule("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork", "Allow outbound traffic from all VMs to all VMs in VNET"),
  defaultRule("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet", "Allow outbound traffic from all VMs to Internet"),
  defaultRule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*", "Deny all outbound traffic"),
];

function defaultRule(
  name: string,
  priority: number,
  direction: NsgRule["direction"],
  access: NsgRule["access"],
  sourceAddressPrefix: string,
  destinationAddressPrefix: string,
  description: string,
): NsgRule {
  return {
    name,
    priority,
    direction,
    access,
    protocol: "*",
    description,
    sourceAddressPrefix,
    destinationAddressPrefix,
    sourcePortRange: "*",
    destinationPortRange: "*",
  };
}
