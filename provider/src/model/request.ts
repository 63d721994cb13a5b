import { z } from "zod";
import { Prefix, formatPrefix, parsePrefix, prefixContains } from "./address";
import { IsoDuration, formatDuration, parseDuration } from "./duration";
import { JitError } from "./errors";
import { Policy, PolicyVm, PortNumber, PortRule, MIN_ACCESS_MS, SourcePrefix, allowedSourcePrefixes, findPolicyVm, policyCloud } from "./policy";
import { Protocol } from "./protocol";
import { userText } from "./redact";
import { DateTimeText, UtcInstant, epochMs, utc } from "./time";
import { MAX_LENGTH, WHEN_VALID, bareMessage, boundedString, flagRepeats, parseOrThrow } from "./validate";
import { Cloud, VmId, parseVmId, vmKey, vmName } from "./vm";

export const MAX_JUSTIFICATION_LENGTH = 1000;

/**
 * One port of a request: Defender's initiate port (`number`, `endTimeUtc`, optional
 * `allowedSourceAddressPrefix`) plus `duration` (what Defender's portal sends) and `protocol` (to
 * narrow a `*` rule). The source prefix is checked against the policy by `checkRequest`, which
 * refuses a malformed one as it refuses one outside the policy.
 */
export const RequestPort = z
  .strictObject({
    number: PortNumber,
    endTimeUtc: boundedString(MAX_LENGTH.time).pipe(DateTimeText).optional(),
    duration: boundedString(MAX_LENGTH.time).pipe(IsoDuration).optional(),
    allowedSourceAddressPrefix: boundedString(MAX_LENGTH.prefix).min(1).optional(),
    protocol: Protocol.optional(),
  })
  .superRefine((port, ctx) => {
    if ((port.endTimeUtc === undefined) === (port.duration === undefined)) {
      ctx.addIssue({ code: "custom", message: "give exactly one of endTimeUtc and duration", input: port });
    }
  }, WHEN_VALID);
export type RequestPort = z.output<typeof RequestPort>;

export const RequestVm = z
  .strictObject({
    id: boundedString(MAX_LENGTH.vmId).pipe(VmId),
    ports: z.array(RequestPort).min(1, { error: "must list at least one port" }).max(100, { error: "at most 100 ports per VM" }),
  })
  .superRefine((vm, ctx) => {
    flagRepeats(ctx, "ports", vm.ports, (p) => p.number, "number", (p, first) => `port ${p.number} is already requested at ${first}`);
  }, WHEN_VALID);

export const AccessRequest = z
  .strictObject({
    virtualMachines: z.array(RequestVm).min(1, { error: "must list at least one VM" }).max(100, { error: "at most 100 VMs per request" }),
    justification: boundedString(MAX_JUSTIFICATION_LENGTH).pipe(userText(MAX_JUSTIFICATION_LENGTH)).optional(),
    /** Emergency access without approval, for the policy's break-glass principals; needs a justification. */
    breakGlass: z.boolean().optional(),
    /** The identity of the caller; set from their credentials, never from what they claim. */
    requester: boundedString(MAX_LENGTH.principal).min(1).optional(),
  })
  .superRefine((request, ctx) => {
    flagRepeats(ctx, "virtualMachines", request.virtualMachines, (vm) => vmKey(parseVmId(vm.id)), "id", (_, first) => `this VM is already requested at ${first}`);
  }, WHEN_VALID);
export type AccessRequest = z.output<typeof AccessRequest>;
export type AccessRequestInput = z.input<typeof AccessRequest>;

export function parseRequest(input: unknown, prefix = ""): AccessRequest {
  return parseOrThrow(AccessRequest, input, "request", prefix);
}

/** A port as granted: the protocol it opens, the one source prefix, and when it closes. */
export const CheckedPort = z.strictObject({
  number: PortNumber,
  protocol: Protocol,
  sourceAddressPrefix: SourcePrefix,
  endTimeUtc: UtcInstant,
});
export type CheckedPort = z.output<typeof CheckedPort>;

export const CheckedVm = z.strictObject({ id: VmId, ports: z.array(CheckedPort).min(1) });
export type CheckedVm = z.output<typeof CheckedVm>;

/** A request that fits its policy, with absolute end times and canonical source prefixes. */
export interface CheckedRequest {
  policy: string;
  cloud: Cloud;
  requester?: string;
  justification?: string;
  startTimeUtc: string;
  /** The latest end of any port. */
  endTimeUtc: string;
  /** VM ids as the policy spells them. */
  virtualMachines: CheckedVm[];
}

export interface CheckContext {
  now: Date | number;
  /** The caller's own address, used where a port names no source ("My IP"). */
  sourceAddress?: string;
}

function refuse(field: string, message: string): never {
  throw new JitError("RequestNotAllowed", message, { field });
}

/**
 * Checks a request against its policy before anything changes. Returns the request normalised, or
 * throws `RequestNotAllowed` whose `field` points at the offending part and whose message says why.
 * Malformed requests (missing fields, both or neither of endTimeUtc and duration) are `InvalidInput`.
 */
export function checkRequest(policy: Policy, input: AccessRequestInput, context: CheckContext): CheckedRequest {
  const request = parseRequest(input);
  const now = epochMs(context.now);
  const virtualMachines = request.virtualMachines.map((vm, i): CheckedVm => {
    const rules = findPolicyVm(policy, vm.id) ?? refuse(`virtualMachines[${i}].id`, `VM "${vm.id}" is not in policy "${policy.name}"`);
    return {
      id: rules.id,
      ports: vm.ports.map((port, j) => checkPort(policy, rules, port, `virtualMachines[${i}].ports[${j}]`, now, context.sourceAddress)),
    };
  });
  const ends = virtualMachines.flatMap((vm) => vm.ports.map((p) => Date.parse(p.endTimeUtc)));
  return {
    policy: policy.name,
    cloud: policyCloud(policy),
    ...(request.requester === undefined ? {} : { requester: request.requester }),
    ...(request.justification === undefined ? {} : { justification: request.justification }),
    startTimeUtc: utc(now),
    endTimeUtc: utc(Math.max(...ends)),
    virtualMachines,
  };
}

function checkPort(policy: Policy, vm: PolicyVm, port: RequestPort, at: string, now: number, detected: string | undefined): CheckedPort {
  const where = `port ${port.number} of VM "${vmName(parseVmId(vm.id))}"`;
  const rule =
    vm.ports.find((p) => p.number === port.number) ??
    refuse(`${at}.number`, `${where} is not in policy "${policy.name}"; it allows ports ${vm.ports.map((p) => p.number).join(", ")}`);
  if (port.protocol !== undefined && rule.protocol !== "*" && port.protocol !== rule.protocol) {
    refuse(`${at}.protocol`, `protocol ${port.protocol} is not allowed on ${where}; policy "${policy.name}" allows ${rule.protocol} only`);
  }
  return {
    number: port.number,
    protocol: port.protocol ?? rule.protocol,
    sourceAddressPrefix: formatPrefix(checkSource(policy, rule, port, where, `${at}.allowedSourceAddressPrefix`, detected)),
    endTimeUtc: utc(checkEnd(policy, rule, port, where, at, now)),
  };
}

function checkEnd(policy: Policy, rule: PortRule, port: RequestPort, where: string, at: string, now: number): number {
  let field: string;
  let end: number;
  if (port.endTimeUtc !== undefined) {
    field = `${at}.endTimeUtc`;
    end = Date.parse(port.endTimeUtc);
    if (end <= now) refuse(field, `${port.endTimeUtc} is not in the future (it is now ${utc(now)})`);
  } else {
    field = `${at}.duration`;
    end = now + parseDuration(port.duration ?? "");
  }
  const length = end - now;
  if (length < MIN_ACCESS_MS) refuse(field, `access for ${formatDuration(length)} is shorter than the minimum of PT5M`);
  const max = parseDuration(rule.maxRequestAccessDuration);
  if (length > max) {
    refuse(field, `access for ${formatDuration(length)} is longer than the ${rule.maxRequestAccessDuration} that policy "${policy.name}" allows on ${where}`);
  }
  return end;
}

function checkSource(policy: Policy, rule: PortRule, port: RequestPort, where: string, field: string, detected: string | undefined): Prefix {
  const text = port.allowedSourceAddressPrefix ?? detected;
  if (text === undefined) {
    refuse(field, "no source address prefix was given and the caller's own address is not known; name the source (an address or CIDR block)");
  }
  const whose = port.allowedSourceAddressPrefix === undefined ? `your address ${text}` : `"${text}"`;
  let source: Prefix;
  try {
    source = parsePrefix(text, field);
  } catch (err) {
    throw err instanceof JitError ? new JitError("RequestNotAllowed", bareMessage(err), { field }) : err;
  }
  const allowed = allowedSourcePrefixes(rule);
  if (!allowed.some((prefix) => prefixContains(parsePrefix(prefix), source))) {
    refuse(
      field,
      source.kind === "any"
        ? `"*" (any source) is not allowed on ${where}; policy "${policy.name}" allows ${allowed.join(", ")}`
        : `${whose} is not inside the source prefixes that policy "${policy.name}" allows on ${where}: ${allowed.join(", ")}`,
    );
  }
  return source;
}
