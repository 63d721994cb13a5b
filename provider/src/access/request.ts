import {
  AccessRequestInput,
  Grant,
  JitError,
  checkRequest,
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
import type { CloudDriver } from "../driver";
import type { BrokerClientOptions } from "../broker/client";
import { LedgerJournal } from "./journal";
import { PolicyRef, resolvePolicyRecord } from "./policies";
import { endGrant } from "./restore";
import { detectPublicAddress } from "./source-address";

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
  /** The caller's public address for ports that name no source (default: detected, see `detectPublicAddress`). */
  sourceAddress?: string | (() => Promise<string>);
}

/**
 * Opens the requested ports for the requested time. In order: validate the request against the
 * policy, authorise the caller, record the grant, open the ports (journalling each change before
 * it is made), mark it active, and end older grants it supersedes. A refusal changes nothing; a
 * failure while opening undoes what was opened. Returns the active grant.
 */
export async function requestAccess(args: RequestAccessArgs, options: RequestAccessOptions = {}): Promise<Grant> {
  if (options.broker !== undefined) {
    const { policy, ...request } = args;
    if (typeof policy !== "string") throw new JitError("InvalidInput", "through a broker, name the policy the broker knows; it does not take a policy from the caller", { field: "policy" });
    const { BrokerClient } = await import("../broker/client");
    return new BrokerClient(typeof options.broker === "string" ? { url: options.broker } : options.broker).initiate(policy, request);
  }
  return withContext(options, (ctx) => requestWith(ctx, args, options));
}

export async function requestWith(ctx: AccessContext, args: RequestAccessArgs, options: RequestAccessOptions = {}): Promise<Grant> {
  const { policy: ref, ...request } = args;
  const { policy, baseline } = await resolvePolicyRecord(ctx.ledger, ref);
  const cloud = policyCloud(policy);
  const driver = await ctx.driver(cloud);
  const caller: Caller = options.caller ?? { principal: await driver.whoAmI(), mode: "direct" };
  const { principal } = caller;
  const refuse = async (err: unknown): Promise<never> => {
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
  };

  let checked;
  try {
    // Validated before anything is read from it: the request may come from the network.
    const parsed = parseRequest({ ...request, requester: principal.id });
    const needsSource = parsed.virtualMachines.some((vm) => vm.ports.some((p) => p.allowedSourceAddressPrefix === undefined));
    const sourceAddress = needsSource ? await callerAddress(options.sourceAddress) : undefined;
    checked = checkRequest(policy, parsed, { now: ctx.now(), ...(sourceAddress ? { sourceAddress } : {}) });
    await authorizeRequest(driver, policy, caller, checked.virtualMachines.map((vm) => vm.id), options.actions);
  } catch (err) {
    return refuse(err);
  }

  let grant = await ctx.ledger.createGrant(newGrant(checked));
  const sources = [...new Set(grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => p.sourceAddressPrefix)))];
  await ctx.ledger.appendAudit(
    newAuditEvent({
      actor: principal.id,
      action: "grant.request",
      target: { policy: policy.name, grant: grant.id },
      ...(grant.justification ? { justification: grant.justification } : {}),
      ...(sources.length === 1 ? { sourceAddress: sources[0] } : {}),
      outcome: "success",
    }),
  );

  const journal = new LedgerJournal(ctx.ledger, grant);
  await journal.edit((g) => transition(g, "applying"));
  try {
    ctx.progress(`opening ${describeGrant(grant)}`);
    await driver.applyGrant(journal.grant, journal, ctx.progress, policy, baseline);
    grant = await journal.edit((g) => transition(g, "active"));
  } catch (err) {
    await undoFailedApply(ctx, driver, journal, err);
    throw err;
  }
  await ctx.ledger.appendAudit(
    newAuditEvent({ actor: principal.id, action: "grant.apply", target: { policy: policy.name, grant: grant.id }, outcome: "success" }),
  );
  await supersedeOlder(ctx, driver, grant);
  return grant;
}

async function callerAddress(given: RequestAccessOptions["sourceAddress"]): Promise<string> {
  if (typeof given === "string") return given;
  return given ? given() : detectPublicAddress();
}

function describeGrant(grant: Grant): string {
  const ports = grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => `${p.number}/${p.protocol} on ${vmNameOf(vm.id)}`));
  return `${ports.join(", ")} for grant ${grant.id} until ${grant.endTimeUtc}`;
}

/** Puts back whatever a failed apply changed; if even that fails, the grant stays due for `sweep`. */
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
      action: "grant.fail",
      target: { policy: journal.grant.policy, grant: journal.grant.id },
      outcome: "failed",
      ...(cause instanceof JitError ? { code: cause.code } : {}),
      message: message.slice(0, 2000),
    }),
  );
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
