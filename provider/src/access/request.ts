import {
  AccessRequestInput,
  CheckedRequest,
  Grant,
  Policy,
  JitError,
  ApprovalRoute,
  checkBreakGlass,
  checkRequest,
  holdGrant,
  routeRequest,
  epochMs,
  newAuditEvent,
  newGrant,
  parseRequest,
  parseVmId,
  policyCloud,
  transition,
  vmKey,
  vmNameOf,
} from "../model";
import { Caller, authorizeRequest } from "./authorize";
import { AccessContext, AccessOptions, withContext } from "./context";
import type { BaselineRecord, CloudDriver, Principal } from "../driver";
import type { BrokerClientOptions } from "../broker/client";
import { LedgerJournal } from "./journal";
import { PolicyRef, resolvePolicyRecord } from "./policies";
import { endGrant } from "./restore";
import { detectPublicAddress } from "./source-address";
import { announce } from "./announce";
import { scheduleExpiry } from "./expiry";

export interface RequestAccessArgs extends Omit<AccessRequestInput, "requester"> {
  /** The policy's name (as registered by a JitPolicy resource) or the policy itself. */
  policy: PolicyRef;
}

export interface RequestAccessOptions extends AccessOptions {
  /** The cloud actions checked on each VM (default: the driver's `requestActions` for the mode). */
  actions?: readonly string[];
  /** Who asks, when it is not the driver's own identity (the broker passes the caller it verified). */
  caller?: Caller;
  /**
   * Ask an access broker (`jit serve`) instead of writing with your own credentials: its URL, or
   * client options. The policy is then the name the broker knows it by.
   */
  broker?: string | BrokerClientOptions;
  /** How long a request waits for approval when its policy names no `approvalTimeout` (default PT1H). */
  approvalTimeout?: string;
  /** The caller's public address for ports that name no source (default: detected, see `detectPublicAddress`). */
  sourceAddress?: string | (() => Promise<string>);
  /**
   * When access should begin (ISO-8601 or a Date). A start in the future makes the grant
   * `scheduled`: checked and authorised now, opened at its start by `jit daemon` or a sweep,
   * never before; durations count from the start. Default: now.
   */
  start?: Date | string;
}

/**
 * Opens the requested ports for the requested time. In order: validate the request against the
 * policy, authorise the caller, record the grant, open the ports (journalling each change before
 * it is made), mark it active, and end older grants it supersedes. A refusal changes nothing; a
 * failure while opening undoes what was opened. Returns the active grant; with a `start` in the
 * future, the grant `scheduled` instead (checked and authorised now, opened at its start).
 */
export async function requestAccess(args: RequestAccessArgs, options: RequestAccessOptions = {}): Promise<Grant> {
  if (options.broker !== undefined) {
    const { policy, ...request } = args;
    if (typeof policy !== "string") throw new JitError("InvalidInput", "through a broker, name the policy the broker knows; it does not take a policy from the caller", { field: "policy" });
    const { BrokerClient } = await import("../broker/client");
    const start = options.start === undefined ? {} : { startTimeUtc: typeof options.start === "string" ? options.start : options.start.toISOString() };
    return new BrokerClient(typeof options.broker === "string" ? { url: options.broker } : options.broker).initiate(policy, { ...request, ...start });
  }
  return withContext(options, (ctx) => requestWith(ctx, args, options));
}

export async function requestWith(ctx: AccessContext, args: RequestAccessArgs, options: RequestAccessOptions = {}): Promise<Grant> {
  const start = options.start === undefined ? undefined : startOf(options.start);
  const admitted = await admit(ctx, args, options, start !== undefined && start > ctx.now().getTime() ? new Date(start) : undefined);
  if (admitted.scheduled) return scheduleWith(ctx, admitted);
  const { route, principal, policy } = admitted;
  const made = newGrant(admitted.checked);
  const grant = await ctx.ledger.createGrant(
    route.kind === "hold"
      ? holdGrant(made, route.required, route.expiresAt)
      : { ...made, ...(route.breakGlass ? { breakGlass: true as const } : {}), ...(route.autoApproved !== undefined ? { autoApproved: route.autoApproved } : {}) },
  );
  await auditRequest(ctx, grant, principal.id, "grant.request", route.kind === "open" && route.autoApproved !== undefined ? `approved by autoApprove[${route.autoApproved}]` : undefined);
  await announce(ctx, "requested", grant, { actor: principal.id });
  if (route.kind === "hold") {
    await ctx.ledger.appendAudit(
      newAuditEvent({
        actor: principal.id,
        action: "grant.hold",
        target: { policy: policy.name, grant: grant.id },
        outcome: "success",
        message: `awaiting ${route.required} approval(s) until ${route.expiresAt}`,
      }),
    );
    await announce(ctx, "pending-approval", grant, { actor: principal.id });
    ctx.progress(`grant ${grant.id} awaits ${route.required} approval(s) until ${route.expiresAt}; nothing is open yet`);
    return grant;
  }
  if (route.breakGlass) {
    await ctx.ledger.appendAudit(
      newAuditEvent({
        actor: principal.id,
        action: "grant.break-glass",
        target: { policy: policy.name, grant: grant.id },
        ...(grant.justification ? { justification: grant.justification } : {}),
        outcome: "success",
        message: "emergency access without approval",
      }),
    );
    await announce(ctx, "break-glass", grant, { actor: principal.id });
  }
  const journal = new LedgerJournal(ctx.ledger, grant);
  await journal.edit((g) => transition(g, "applying"));
  return openGrant(ctx, admitted.driver, journal, policy, principal.id, admitted.baseline);
}

/** A request checked against its policy and authorised, at `start` (a scheduled request) or now. */
interface Admitted {
  policy: Policy;
  driver: CloudDriver;
  principal: Principal;
  checked: CheckedRequest;
  /** What the policy's last apply recorded (where it found each VM), which spares a grant reading the VMs again. */
  baseline: BaselineRecord | undefined;
  /** Whether it opens at once, or waits for approvals. */
  route: ApprovalRoute;
  scheduled: boolean;
}

/**
 * Validates the request against the policy as of `start` (or now) and authorises the caller now;
 * a refusal is audited and thrown, with nothing changed.
 */
async function admit(ctx: AccessContext, args: RequestAccessArgs, options: RequestAccessOptions, start: Date | undefined): Promise<Admitted> {
  const { policy: ref, ...request } = args;
  const { policy, baseline } = await resolvePolicyRecord(ctx.ledger, ref);
  const cloud = policyCloud(policy);
  const driver = await ctx.driver(cloud);
  const caller: Caller = options.caller ?? { principal: await driver.whoAmI(), mode: "direct" };
  const { principal } = caller;
  try {
    // Validated before anything is read from it: the request may come from the network.
    const parsed = parseRequest({ ...request, requester: principal.id });
    const needsSource = parsed.virtualMachines.some((vm) => vm.ports.some((p) => p.allowedSourceAddressPrefix === undefined));
    const sourceAddress = needsSource ? await callerAddress(options.sourceAddress) : undefined;
    const checked = checkRequest(policy, parsed, { now: start ?? ctx.now(), ...(sourceAddress ? { sourceAddress } : {}) });
    await authorizeRequest(driver, policy, caller, checked.virtualMachines.map((vm) => vm.id), options.actions);
    if (parsed.breakGlass) checkBreakGlass(policy, checked, (listed) => driver.isRequester(listed, principal));
    const route = routeRequest(policy, checked, { breakGlass: parsed.breakGlass === true, ...(options.approvalTimeout ? { defaultTimeout: options.approvalTimeout } : {}) });
    // Approvals are counted from a request's start; a scheduled request would open unapproved.
    if (start !== undefined && route.kind === "hold") {
      throw new JitError("InvalidInput", `policy "${policy.name}" needs approval, so access cannot be scheduled ahead; request it when it is needed`, { field: "start" });
    }
    return { policy, driver, principal, checked, baseline, route, scheduled: start !== undefined };
  } catch (err) {
    if (err instanceof JitError) {
      await ctx.ledger.appendAudit(
        newAuditEvent({
          actor: principal.id,
          action: "grant.refuse",
          target: { policy: policy.name },
          ...(request.justification ? { justification: request.justification } : {}),
          outcome: "refused",
          code: err.code,
          message: err.message,
        }),
      );
    }
    throw err;
  }
}

/** Records a request (or a scheduled one) in the audit log, with its one source address if it has one. */
async function auditRequest(ctx: AccessContext, grant: Grant, actor: string, action: "grant.request" | "grant.schedule", note?: string): Promise<void> {
  const sources = [...new Set(grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => p.sourceAddressPrefix)))];
  await ctx.ledger.appendAudit(
    newAuditEvent({
      actor,
      action,
      target: { policy: grant.policy, grant: grant.id },
      ...(grant.justification ? { justification: grant.justification } : {}),
      ...(sources.length === 1 ? { sourceAddress: sources[0] } : {}),
      outcome: "success",
      ...(action === "grant.schedule" ? { message: `opens ${grant.createdAt}, ends ${grant.endTimeUtc}` } : note ? { message: note } : {}),
    }),
  );
}

/** A grant held as `scheduled` until its start, when `jit daemon` (or a sweep) opens it; nothing in the cloud changes before then. */
async function scheduleWith(ctx: AccessContext, admitted: Admitted): Promise<Grant> {
  const grant = await ctx.ledger.createGrant(newGrant(admitted.checked, { scheduled: true }));
  await auditRequest(ctx, grant, admitted.principal.id, "grant.schedule");
  ctx.progress(`grant ${grant.id} is scheduled: ${describeGrant(grant)}, from ${grant.createdAt}`);
  return grant;
}

/**
 * Opens a grant the caller has taken by moving it to `applying` (compare-and-swap: of several
 * openers one wins): opens the ports journalling each change, marks it active, and ends older
 * grants it supersedes. A failure undoes what was opened.
 */
export async function openGrant(ctx: AccessContext, driver: CloudDriver, journal: LedgerJournal, policy: Policy, actor: string, recorded?: BaselineRecord): Promise<Grant> {
  let grant = journal.grant;
  const baseline = recorded ?? ((await ctx.ledger.getPolicy(policy.name))?.baseline as BaselineRecord | null | undefined) ?? undefined;
  try {
    ctx.progress(`opening ${describeGrant(grant)}`);
    await driver.applyGrant(journal.grant, journal, ctx.progress, policy, baseline);
    grant = await journal.edit((g) => transition(g, "active"));
  } catch (err) {
    await undoFailedApply(ctx, driver, journal, err);
    throw err;
  }
  await ctx.ledger.appendAudit(newAuditEvent({ actor, action: "grant.apply", target: { policy: policy.name, grant: grant.id }, outcome: "success" }));
  await announce(ctx, "granted", grant, { actor });
  await scheduleExpiry(ctx.expiry, grant, ctx.progress);
  await supersedeOlder(ctx, driver, grant);
  return grant;
}

/** A start time given as a Date or ISO-8601 text, in ms; `InvalidInput` (field `start`) when it is not one. */
function startOf(start: Date | string): number {
  const ms = typeof start === "string" ? Date.parse(start) : start.getTime();
  if (Number.isNaN(ms) || (typeof start === "string" && !/^\d{4}-\d{2}-\d{2}T/.test(start))) {
    throw new JitError("InvalidInput", `"${String(start)}" is not an ISO-8601 date-time such as 2030-01-01T09:00:00Z`, { field: "start" });
  }
  return ms;
}

/** The address the caller connects from: as given, or detected. */
export async function callerAddress(given: RequestAccessOptions["sourceAddress"]): Promise<string> {
  if (typeof given === "string") return given;
  return given ? given() : detectPublicAddress();
}

function describeGrant(grant: Grant): string {
  const ports = grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => `${p.number}/${p.protocol} on ${vmNameOf(vm.id)}`));
  return `${ports.join(", ")} for grant ${grant.id} until ${grant.endTimeUtc}`;
}

/**
 * Puts back whatever a failed apply changed; if even that fails, the grant stays due for `sweep`.
 * The apply's own failure is audited as `grant.apply`: the grant's end (`grant.fail`) is audited
 * once, by whoever ends it.
 */
async function undoFailedApply(ctx: AccessContext, driver: CloudDriver, journal: LedgerJournal, cause: unknown): Promise<void> {
  const message = cause instanceof Error ? cause.message : String(cause);
  try {
    await endGrant(ctx, driver, journal, "Failed", { detail: message.slice(0, 2000) });
  } catch (undoErr) {
    ctx.progress(`could not undo grant ${journal.grant.id} (${undoErr instanceof Error ? undoErr.message : String(undoErr)}); \`jit sweep\` will finish it`);
  }
  await ctx.ledger.appendAudit(
    newAuditEvent({
      actor: journal.grant.requester,
      action: "grant.apply",
      target: { policy: journal.grant.policy, grant: journal.grant.id },
      outcome: "failed",
      ...(cause instanceof JitError ? { code: cause.code } : {}),
      message: message.slice(0, 2000),
    }),
  );
  await announce(ctx, "failed", journal.grant, { detail: message });
}

function coverage(grant: Grant): Map<string, number> {
  const out = new Map<string, number>();
  for (const vm of grant.virtualMachines) {
    for (const p of vm.ports) out.set(`${vmKey(parseVmId(vm.id))}|${p.number}|${p.protocol}|${p.sourceAddressPrefix}`, epochMs(p.endTimeUtc));
  }
  return out;
}

/**
 * Defender ends an older request for the same VM, port and source when a newer one starts
 * (`NewerRequestInitiated`). We do so only after the newer grant is open, so access has no gap,
 * and only when the newer grant covers every port of the older one at least as long, so that no
 * grant is cut short by another.
 */
async function supersedeOlder(ctx: AccessContext, driver: CloudDriver, newer: Grant): Promise<void> {
  const covers = coverage(newer);
  const active = await ctx.ledger.listGrants({ policy: newer.policy, state: "active" });
  for (const older of active) {
    if (older.id === newer.id) continue;
    const entries = [...coverage(older)];
    if (!entries.every(([key, end]) => (covers.get(key) ?? -1) >= end)) continue;
    ctx.progress(`ending grant ${older.id}: superseded by ${newer.id}`);
    // Someone else may be ending it already; then it is theirs to finish.
    await endGrant(ctx, driver, older, "NewerRequestInitiated", { ifFree: true });
  }
}
