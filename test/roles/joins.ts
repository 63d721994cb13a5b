/**
 * What a write of a classic Azure Firewall needs besides `azureFirewalls/write`: it references the
 * AzureFirewallSubnet and its public IPs, and ARM checks linked access to each (Azure Firewall
 * "roles and permissions": Create new or Update existing).
 */
export const FIREWALL_JOINS = ["Microsoft.Network/virtualNetworks/subnets/join/action", "Microsoft.Network/publicIPAddresses/join/action"];
