import { z } from "zod";
import { isIpAddress, parsePrefix } from "./address";
import { DAY_MS, MINUTE_MS, parseDuration } from "./duration";
import { JitError } from "./errors";
import { Protocol } from "./protocol";
import { MAX_LENGTH, WHEN_VALID, boundedString, flagRepeats, parseOrThrow, viaParser } from "./validate";
import { Cloud, VmId, parseVmId, vmKey, vmName } from "./vm";

/** Defender's limits on `maxRequestAccessDuration` (and so on any request): 5 minutes to 1 day. */
export const MIN_ACCESS_MS = 5 * MINUTE_MS;
export const MAX_ACCESS_MS = DAY_MS;
export const DEFAULT_MAX_REQUEST_ACCESS_DURATION = "PT3H";
/** Defender's limit on policy name plus VM name; the pair ends up in rule names and tags. */
export const MAX_POLICY_AND_VM_NAME = 56;
/** Usable as an Azure rule-name part and as an AWS tag value. */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const PortNumber = z
  .number({ error: "must be a port number" })
  .int({ error: "must be a whole number from 0 to 65535" })
  .min(0, { error: "must be a whole number from 0 to 65535" })
  .max(65535, { error: "must be a whole number from 0 to 65535" });

/** An IP address, a CIDR block (no host bits) or `*`, IPv4 or IPv6; kept as written. */
export const SourcePrefix = boundedString(MAX_LENGTH.prefix).superRefine(viaParser(parsePrefix));

const MaxRequestAccessDuration = boundedString(MAX_LENGTH.time).superRefine(
  viaParser((text) => {
    const ms = parseDuration(text);
    if (ms < MIN_ACCESS_MS || ms > MAX_ACCESS_MS) throw new JitError("InvalidInput", `"${text}" is outside the allowed range PT5M to P1D`);
  }),
);

/**
 * One port of one VM, exactly Defender's `JitNetworkAccessPortRule`. With neither source field, the
 * rule allows any source (`*`): Defender's API leaves the case undocumented, and its portal and
 * scripts default to "Any". `*` means any source may be *requested*; every grant still opens only
 * for the source its request names (or the requester's own address).
 */
export const PortRule = z
  .strictObject({
    number: PortNumber,
    protocol: Protocol,
    allowedSourceAddressPrefix: SourcePrefix.optional(),
    allowedSourceAddressPrefixes: z.array(SourcePrefix).min(1, { error: "must list at least one prefix" }).max(100, { error: "at most 100 prefixes" }).optional(),
    maxRequestAccessDuration: MaxRequestAccessDuration.default(DEFAULT_MAX_REQUEST_ACCESS_DURATION),
  })
  .superRefine((port, ctx) => {
    if (port.allowedSourceAddressPrefix !== undefined && port.allowedSourceAddressPrefixes !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["allowedSourceAddressPrefixes"],
        message: "give allowedSourceAddressPrefix or allowedSourceAddressPrefixes, not both",
        input: port,
      });
    }
  }, WHEN_VALID)
  .transform((port) =>
    port.allowedSourceAddressPrefix === undefined && port.allowedSourceAddressPrefixes === undefined
      ? { ...port, allowedSourceAddressPrefix: "*" }
      : port,
  );
export type PortRule = z.output<typeof PortRule>;

export const PolicyVm = z
  .strictObject({
    id: boundedString(MAX_LENGTH.vmId).pipe(VmId),
    ports: z.array(PortRule).min(1, { error: "must list at least one port" }).max(100, { error: "at most 100 ports per VM" }),
    /** The public IP address of the Azure Firewall in front of the VM, when access goes through its DNAT. */
    publicIpAddress: boundedString(MAX_LENGTH.prefix).refine(isIpAddress, { error: "must be an IP address" }).optional(),
  })
  .superRefine((vm, ctx) => {
    flagRepeats(ctx, "ports", vm.ports, (p) => p.number, "number", (p, first) => `port ${p.number} is already listed at ${first}`);
  }, WHEN_VALID);
export type PolicyVm = z.output<typeof PolicyVm>;

// Azure principals: object ids (users, groups, service principals) or user principal names.
const AZURE_PRINCIPAL = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[^\s@]+@[^\s@]+\.[^\s@]+)$/i;
// AWS principals: IAM users, roles and groups, account roots, STS assumed-role sessions; `*` and `?` match as in IAM.
const AWS_PRINCIPAL = /^arn:aws[a-z-]*:(?:iam|sts)::(?:\d{12}|\*):[\w+=,.@/*?-]+$/;
const PRINCIPAL_FORMS: Record<Cloud, { pattern: RegExp; says: string }> = {
  azure: { pattern: AZURE_PRINCIPAL, says: "an Azure object id (a GUID) or a user principal name such as ana@contoso.com" },
  aws: { pattern: AWS_PRINCIPAL, says: "an AWS IAM or STS ARN such as arn:aws:iam::123456789012:role/Ops" },
};

const Principals = z
  .array(boundedString(MAX_LENGTH.principal).min(1))
  .min(1, { error: "must name at least one principal; leave it out to rely on cloud permissions alone" })
  .max(100, { error: "at most 100 principals" });

export const Policy = z
  .strictObject({
    name: boundedString(MAX_POLICY_AND_VM_NAME)
      .regex(POLICY_NAME_PATTERN, { error: "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'" }),
    virtualMachines: z.array(PolicyVm).min(1, { error: "must list at least one VM" }).max(1000, { error: "at most 1000 VMs per policy" }),
    /** Who may request access (checked with the cloud's own permissions, not instead of them). */
    requesters: Principals.optional(),
    /** Who may approve requests. */
    approvers: Principals.optional(),
  })
  .superRefine((policy, ctx) => {
    const refs = policy.virtualMachines.map((vm) => parseVmId(vm.id));
    flagRepeats(ctx, "virtualMachines", refs, vmKey, "id", (_, first) => `this VM is already listed at ${first}`);
    const cloud = refs[0].cloud;
    refs.forEach((ref, i) => {
      const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["virtualMachines", i, "id"], message, input: policy.virtualMachines[i].id });
      if (ref.cloud !== cloud) issue(`a policy covers one cloud; virtualMachines[0] is on ${cloud}, this VM is on ${ref.cloud}`);
      const length = policy.name.length + vmName(ref).length;
      if (length > MAX_POLICY_AND_VM_NAME) {
        issue(`policy name "${policy.name}" plus VM name "${vmName(ref)}" is ${length} characters; at most ${MAX_POLICY_AND_VM_NAME} are allowed`);
      }
      if (ref.cloud === "aws" && policy.virtualMachines[i].publicIpAddress !== undefined) {
        ctx.addIssue({ code: "custom", path: ["virtualMachines", i, "publicIpAddress"], message: "is the address of an Azure Firewall; EC2 instances have none", input: policy.virtualMachines[i].publicIpAddress });
      }
    });
    const form = PRINCIPAL_FORMS[cloud];
    for (const list of ["requesters", "approvers"] as const) {
      policy[list]?.forEach((principal, i) => {
        if (!form.pattern.test(principal)) {
          ctx.addIssue({ code: "custom", path: [list, i], message: `"${principal}" is not ${form.says}`, input: principal });
        }
      });
    }
  }, WHEN_VALID);
export type Policy = z.output<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;

/** Validates a policy; throws `InvalidInput` naming the first wrong field and listing every problem. */
export function parsePolicy(input: unknown, prefix = ""): Policy {
  return parseOrThrow(Policy, input, "policy", prefix);
}

/** The one cloud a (valid) policy's VMs are on. */
export function policyCloud(policy: Policy): Cloud {
  return parseVmId(policy.virtualMachines[0].id).cloud;
}

/** The VM entry of a policy for an id in any of its spellings (case, ARN or bare instance id). */
export function findPolicyVm(policy: Policy, id: string): PolicyVm | undefined {
  const key = vmKey(parseVmId(id));
  return policy.virtualMachines.find((vm) => vmKey(parseVmId(vm.id)) === key);
}

/** The source prefixes a port rule allows, whichever of the two fields holds them. */
export function allowedSourcePrefixes(port: PortRule): string[] {
  return port.allowedSourceAddressPrefixes ?? [port.allowedSourceAddressPrefix ?? "*"];
}
