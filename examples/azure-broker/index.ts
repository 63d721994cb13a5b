// A serverless pulumi-jit broker on Azure protecting one VM: a Flex Consumption Functions app with
// a managed identity holding the broker role on the VM's resource group, a Storage table ledger, and
// exact-time expiry by queue messages that appear at each grant's end, with a timer sweep as a
// safety net. Build the function package first: node --import tsx scripts/build-handlers.ts
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import * as jit from "pulumi-jit";

const config = new pulumi.Config();
/** The VM to protect, by resource id, and the resource group holding it and its NSG. */
const vmId = config.require("vmId");
const vmResourceGroupId = config.require("vmResourceGroupId");
/** The Entra ID tenant whose users may request. */
const tenantId = config.require("tenantId");

const group = new resources.ResourceGroup("jit-broker");
const broker = new jit.azure.JitBroker("jit", { resourceGroupName: group.name, scopes: [vmResourceGroupId], tenants: [tenantId] });

new jit.azure.JitPolicy(
  "ssh",
  { virtualMachines: [{ id: vmId, ports: [{ number: 22, protocol: "TCP", maxRequestAccessDuration: "PT3H" }] }] },
  { dependsOn: [broker] },
);

export const brokerUrl = broker.brokerUrl;
export const ledgerUrl = broker.ledgerUrl;
export const principalId = broker.principalId;
