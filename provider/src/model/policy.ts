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

/** An ISO-8601 duration between `min` and `max` (ms), spelt as such in the error. */
function durationWithin(min: number, max: number, range: string) {
  return boundedString(MAX_LENGTH.time).superRefine(
    viaParser((text) => {
      const ms = parseDuration(text);
      if (ms < min || ms > max) throw new JitError("InvalidInput", `"${text}" is outside the allowed range ${range}`);
    }),
  );
}

const MaxRequestAccessDuration = durationWithin(MIN_ACCESS_MS, MAX_ACCESS_MS, "PT5M to P1D");

/** How long a request may wait for its approvals before it expires, unless the policy says otherwise. */
export const DEFAULT_APPROVAL_TIMEOUT = "PT1H";
/** More distinct approvals than this is a process problem, not a control. */
export const MAX_APPROVALS_REQUIRED = 10;
export const DEFAULT_BREAK_GLASS_DURATION = "PT1H";

const ApprovalsRequired = z
  .number({ error: "must be a whole number of approvals" })
  .int({ error: `must be a whole number from 0 to ${MAX_APPROVALS_REQUIRED}` })
  .min(0, { error: `must be a whole number from 0 to ${MAX_APPROVALS_REQUIRED}` })
  .max(MAX_APPROVALS_REQUIRED, { error: `must be a whole number from 0 to ${MAX_APPROVALS_REQUIRED}` });

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
    /** Distinct approvals a request for this port needs, instead of the policy's `approvalsRequired`. */
    approvalsRequired: ApprovalsRequired.optional(),
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

/**
 * A low-risk request that needs no approval: every requested port's source lies inside one of
 * `sourceWithin` (when given) and its duration is at most `maxDuration` (when given).
 */
export const AutoApproveRule = z
  .strictObject({
    sourceWithin: z.array(SourcePrefix).min(1, { error: "must list at least one prefix" }).max(100, { error: "at most 100 prefixes" }).optional(),
    maxDuration: MaxRequestAccessDuration.optional(),
  })
  .refine((rule) => rule.sourceWithin !== undefined || rule.maxDuration !== undefined, {
    error: "give sourceWithin, maxDuration or both; a rule with neither would approve every request",
  });
export type AutoApproveRule = z.output<typeof AutoApproveRule>;

/**
 * Emergency access: these principals may ask with `breakGlass`, which skips approval, requires a
 * justification, is announced at once and marked in the audit log, and is held to a shorter maximum.
 */
export const BreakGlass = z.strictObject({
  principals: Principals,
  maxRequestAccessDuration: MaxRequestAccessDuration.default(DEFAULT_BREAK_GLASS_DURATION),
});
export type BreakGlass = z.output<typeof BreakGlass>;

export const Policy = z
  .strictObject({
    name: boundedString(MAX_POLICY_AND_VM_NAME)
      .regex(POLICY_NAME_PATTERN, { error: "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'" }),
    virtualMachines: z.array(PolicyVm).min(1, { error: "must list at least one VM" }).max(1000, { error: "at most 1000 VMs per policy" }),
    /** Who may request access (checked with the cloud's own permissions, not instead of them). */
    requesters: Principals.optional(),
    /** Who may approve requests. */
    approvers: Principals.optional(),
    /** Distinct approvals (never the requester's own) a request needs; default 1 when approvers are listed, else 0. A port may say otherwise. */
    approvalsRequired: ApprovalsRequired.optional(),
    /** How long a request waits for its approvals before it expires (default PT1H). */
    approvalTimeout: durationWithin(MINUTE_MS, 7 * DAY_MS, "PT1M to P7D").optional(),
    autoApprove: z.array(AutoApproveRule).min(1, { error: "must list at least one rule" }).max(20, { error: "at most 20 rules" }).optional(),
    breakGlass: BreakGlass.optional(),
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
    const lists = [
      [["requesters"], policy.requesters],
      [["approvers"], policy.approvers],
      [["breakGlass", "principals"], policy.breakGlass?.principals],
    ] as const;
    for (const [path, list] of lists) {
      list?.forEach((principal, i) => {
        if (!form.pattern.test(principal)) {
          ctx.addIssue({ code: "custom", path: [...path, i], message: `"${principal}" is not ${form.says}`, input: principal });
        }
      });
    }
    if (policy.approvers === undefined) {
      const asks = (policy.approvalsRequired ?? 0) > 0 ? ["approvalsRequired"] : undefined;
      const portAsks = policy.virtualMachines.flatMap((vm, i) => vm.ports.flatMap((p, j) => ((p.approvalsRequired ?? 0) > 0 ? [["virtualMachines", i, "ports", j, "approvalsRequired"]] : [])));
      for (const path of asks ? [asks, ...portAsks] : portAsks) {
        ctx.addIssue({ code: "custom", path, message: "needs approvers: list who may approve", input: policy });
      }
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

/**
 * The distinct approvals a request for these ports of a VM of the policy needs: the strictest of
 * its ports' `approvalsRequired`, each defaulting to the policy's, which defaults to 1 when the
 * policy lists approvers.
 */
export function approvalsRequiredFor(policy: Policy, ports: readonly { vmId: string; number: number }[]): number {
  const base = policy.approvalsRequired ?? (policy.approvers ? 1 : 0);
  return Math.max(0, ...ports.map((p) => findPolicyVm(policy, p.vmId)?.ports.find((r) => r.number === p.number)?.approvalsRequired ?? base));
}
