import { Grant, newGrant } from "../grant";
import { Policy, PolicyInput, parsePolicy } from "../policy";
import { checkRequest } from "../request";

export const SUBSCRIPTION = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";
export const azureVmId = (name: string, rg = "rg1") =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
export const AZURE_VM = azureVmId("web1");
export const AWS_INSTANCE = "i-0123456789abcdef0";
export const NOW = Date.parse("2030-01-01T12:00:00.000Z");

/** A policy input: SSH from one /24 for up to 3 hours, RDP from anywhere for 1 hour. */
export function azurePolicyInput(): PolicyInput {
  return {
    name: "web",
    virtualMachines: [
      {
        id: AZURE_VM,
        ports: [
          { number: 22, protocol: "TCP", allowedSourceAddressPrefixes: ["203.0.113.0/24", "2001:db8::/32"], maxRequestAccessDuration: "PT3H" },
          { number: 3389, protocol: "*", allowedSourceAddressPrefix: "*", maxRequestAccessDuration: "PT1H" },
        ],
      },
    ],
  };
}

export function azurePolicy(): Policy {
  return parsePolicy(azurePolicyInput());
}

export function awsPolicy(): Policy {
  return parsePolicy({
    name: "ops",
    virtualMachines: [{ id: AWS_INSTANCE, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "198.51.100.0/24" }] }],
    requesters: ["arn:aws:iam::123456789012:role/Ops"],
  });
}

/** A pending grant for an hour of SSH to the policy's first VM (by default: the Azure policy, from 203.0.113.7, at NOW). */
export function sampleGrant(options: { id?: string; now?: number; policy?: Policy; source?: string } = {}): Grant {
  const policy = options.policy ?? azurePolicy();
  const checked = checkRequest(
    policy,
    {
      virtualMachines: [{ id: policy.virtualMachines[0].id, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: options.source ?? "203.0.113.7" }] }],
      justification: "INC-1234",
      requester: "ana@contoso.com",
    },
    { now: options.now ?? NOW },
  );
  return newGrant(checked, options.id === undefined ? {} : { id: options.id });
}
