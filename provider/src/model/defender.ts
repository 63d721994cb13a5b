import { z } from "zod";
import { JitError } from "./errors";
import { Grant, defenderStatus, firewallMapping } from "./grant";
import { Policy, PolicyVm, PortNumber, parsePolicy } from "./policy";
import { AccessRequest, parseRequest } from "./request";
import { DateTimeText } from "./time";
import { parseOrThrow } from "./validate";

/**
 * Microsoft Defender for Cloud's `Microsoft.Security/locations/jitNetworkAccessPolicies` JSON
 * (api-version 2020-01-01) in and out. A policy's `virtualMachines` are our `Policy` as they are;
 * the rest of the resource (id, name, kind, location, `requests` history, provisioning state and
 * anything else ARM adds) is the "envelope", kept verbatim so that a policy read from Defender can
 * be written back without loss.
 */

const DefenderRequestPort = z.looseObject({
  number: PortNumber,
  endTimeUtc: DateTimeText,
  // Open enums in the spec (`modelAsString`); its own initiate example answers "Initiating".
  status: z.string(),
  statusReason: z.string(),
  allowedSourceAddressPrefix: z.string().optional(),
  allowedSourceAddressPrefixes: z.array(z.string()).optional(),
  mappedPort: PortNumber.optional(),
});

/** One entry of a Defender policy's `requests` history. */
export const DefenderRequest = z.looseObject({
  virtualMachines: z.array(z.looseObject({ id: z.string(), ports: z.array(DefenderRequestPort) })),
  startTimeUtc: DateTimeText,
  requestor: z.string(),
  justification: z.string().optional(),
});
export type DefenderRequest = z.output<typeof DefenderRequest>;

export const DefenderEnvelope = z.looseObject({
  id: z.string().optional(),
  name: z.string().optional(),
  type: z.string().optional(),
  kind: z.string().optional(),
  location: z.string().optional(),
  properties: z.looseObject({ requests: z.array(DefenderRequest).optional(), provisioningState: z.string().optional() }).optional(),
});
export type DefenderEnvelope = z.output<typeof DefenderEnvelope>;

export type DefenderPolicyJson = Omit<DefenderEnvelope, "properties"> & {
  properties: NonNullable<DefenderEnvelope["properties"]> & { virtualMachines: PolicyVm[] };
};

const DefenderPolicyDocument = z.looseObject({
  properties: z.looseObject({ virtualMachines: z.array(z.unknown()) }),
});

export const DEFENDER_POLICY_TYPE = "Microsoft.Security/locations/jitNetworkAccessPolicies";

/**
 * Reads a Defender policy resource (a GET response, a list item, or a PUT body). The name comes
 * from `options.name`, else from the resource; a PUT body has none, its name is in the URL.
 */
export function fromDefenderPolicy(json: unknown, options: { name?: string } = {}): { policy: Policy; envelope: DefenderEnvelope } {
  const doc = parseOrThrow(DefenderPolicyDocument, json, "Defender policy");
  const { virtualMachines, ...properties } = doc.properties;
  const envelope = parseOrThrow(DefenderEnvelope, { ...doc, properties }, "Defender policy");
  const name = options.name ?? envelope.name;
  if (name === undefined) {
    throw new JitError("InvalidInput", "the Defender policy has no name (a PUT body carries it in the URL); pass it as options.name", { field: "name" });
  }
  parseOrThrow(Policy.shape.name, name, "policy name", "name");
  return { policy: parsePolicy({ name, virtualMachines }, "properties"), envelope };
}

export type DefenderPolicyOptions = DefenderEnvelope & {
  /** With `resourceGroup` and `location`: fill in the resource's id, name and type. */
  subscriptionId?: string;
  resourceGroup?: string;
};

/** The ARM id of a Defender JIT policy. */
export function defenderPolicyId(where: { subscriptionId: string; resourceGroup: string; location: string; name: string }): string {
  return `/subscriptions/${where.subscriptionId}/resourceGroups/${where.resourceGroup}/providers/Microsoft.Security/locations/${where.location}/jitNetworkAccessPolicies/${where.name}`;
}

/**
 * Writes a policy as a Defender resource. Pass the envelope `fromDefenderPolicy` returned to get
 * the original document back; or `subscriptionId`, `resourceGroup` and `location` for a complete
 * resource; or nothing for a PUT body. The resource's name is always the policy's.
 */
export function toDefenderPolicy(policy: Policy, options: DefenderPolicyOptions = {}): DefenderPolicyJson {
  const { subscriptionId, resourceGroup, properties, ...resource } = options;
  const out: DefenderPolicyJson = { ...resource, properties: { ...properties, virtualMachines: structuredClone(policy.virtualMachines) } };
  if (resource.name !== undefined) out.name = policy.name;
  if (subscriptionId === undefined && resourceGroup === undefined) return out;
  if (subscriptionId === undefined || resourceGroup === undefined || resource.location === undefined) {
    throw new JitError("InvalidInput", "subscriptionId, resourceGroup and location go together: they name the policy resource", {
      field: subscriptionId === undefined ? "subscriptionId" : resourceGroup === undefined ? "resourceGroup" : "location",
    });
  }
  const id = defenderPolicyId({ subscriptionId, resourceGroup, location: resource.location, name: policy.name });
  return { id, type: DEFENDER_POLICY_TYPE, ...out, name: policy.name };
}

/** Reads the body of Defender's `initiate` action as a request (it has the same fields). */
export function fromDefenderInitiateRequest(json: unknown): AccessRequest {
  return parseRequest(json);
}

/** A grant as an entry of a Defender policy's `requests` history. */
export function toDefenderRequest(grant: Grant): DefenderRequest {
  const status = defenderStatus(grant);
  const mappedPort = (vmId: string, port: number) => {
    const mapping = firewallMapping(grant, vmId, port);
    return mapping ? { mappedPort: mapping.mappedPort } : {};
  };
  return {
    virtualMachines: grant.virtualMachines.map((vm) => ({
      id: vm.id,
      ports: vm.ports.map((p) => ({
        number: p.number,
        allowedSourceAddressPrefix: p.sourceAddressPrefix,
        endTimeUtc: p.endTimeUtc,
        ...status,
        ...mappedPort(vm.id, p.number),
      })),
    })),
    startTimeUtc: grant.createdAt,
    requestor: grant.requester,
    ...(grant.justification === undefined ? {} : { justification: grant.justification }),
  };
}
