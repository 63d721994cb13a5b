import { Grant, JitError, changeKey, epochMs, findPolicyVm, formatDuration, newAuditEvent, parseDuration, parseGrant, utc } from "../model";
import { Caller, authorizeRequest, describe } from "./authorize";
import { AccessContext, AccessOptions, withContext } from "./context";
import { LedgerJournal } from "./journal";
import { resolvePolicy } from "./policies";
import { announce } from "./announce";
import { scheduleExpiry } from "./expiry";

export interface ExtendOptions extends AccessOptions {
  /** Who asks, when it is not the driver's own identity (the broker passes the caller it verified). */
  caller?: Caller;
}

/** Lengthens a live grant by `duration` (ISO-8601); see `extendWith`. */
export function extendAccess(grantId: string, duration: string, options: ExtendOptions = {}): Promise<Grant> {
  return withContext(options, (ctx) => extendWith(ctx, grantId, duration, options.caller));
}

/**
 * Moves every port's end of an active grant `duration` later. Only its requester may, with the
 * rights a request needs, and each port's new end must stay within the policy's maximum counted
 * from the grant's original start. The rules are changed in place before the record (the cloud's
 * stamp is what an orphan sweep trusts, so it must never say earlier than the ledger), and the
 * grant's ends move by compare-and-swap. A refusal changes nothing and is audited.
 */
export async function extendWith(ctx: AccessContext, grantId: string, duration: string, given?: Caller): Promise<Grant> {
  const grant = await ctx.ledger.getGrant(grantId);
  if (!grant) throw new JitError("NotFound", `no grant with id "${grantId}"`, { field: "grantId" });
  const driver = await ctx.driver(grant.cloud);
  const caller: Caller = given ?? { principal: await driver.whoAmI(), mode: "direct" };
  const refuse = async (err: unknown): Promise<never> => {
    if (err instanceof JitError) {
      await ctx.ledger.appendAudit(
        newAuditEvent({ actor: caller.principal.id, action: "grant.extend", target: { policy: grant.policy, grant: grant.id }, outcome: "refused", code: err.code, message: err.message }),
      );
    }
    throw err;
  };

  let extended: Grant;
  try {
    const by = parseDuration(duration, "duration");
    if (by <= 0) throw new JitError("InvalidInput", `"${duration}" extends by nothing; give a duration such as PT30M`, { field: "duration" });
    if (grant.state !== "active") throw new JitError("InvalidInput", `grant ${grant.id} is ${grant.state}; only an active grant can be extended`, { field: "grantId" });
    if (epochMs(grant.endTimeUtc) <= ctx.now().getTime()) throw new JitError("InvalidInput", `grant ${grant.id} ended at ${grant.endTimeUtc}; request access again`, { field: "grantId" });
    if (grant.requester.toLowerCase() !== caller.principal.id.toLowerCase()) {
      throw new JitError("Unauthorized", `grant ${grant.id} is ${grant.requester}'s; ${describe(caller.principal)} may not extend it`);
    }
    const policy = await resolvePolicy(ctx.ledger, grant.policy);
    await authorizeRequest(driver, policy, caller, grant.virtualMachines.map((vm) => vm.id));
    extended = lengthened(grant, by, (vmId, port, protocol) => {
      const max = findPolicyVm(policy, vmId)?.ports.find((p) => p.number === port && p.protocol === protocol)?.maxRequestAccessDuration;
      if (max === undefined) throw new JitError("RequestNotAllowed", `policy "${policy.name}" no longer allows port ${port}/${protocol} of ${vmId}; it cannot be extended`, { field: "grantId" });
      return parseDuration(max);
    });
  } catch (err) {
    return refuse(err);
  }
  if (!driver.extendGrant) throw new JitError("Unsupported", `the ${driver.cloud} driver cannot extend grants`);

  const journal = new LedgerJournal(ctx.ledger, grant);
  ctx.progress(`extending grant ${grant.id} until ${extended.endTimeUtc}`);
  await driver.extendGrant(extended, journal, ctx.progress);
  const ends = new Map(extended.changes.map((c) => [changeKey(c), c.endTimeUtc]));
  const done = await journal.edit((g) =>
    parseGrant({
      ...g,
      virtualMachines: extended.virtualMachines,
      endTimeUtc: extended.endTimeUtc,
      changes: g.changes.map((c) => {
        const end = ends.get(changeKey(c));
        return end === undefined ? c : { ...c, endTimeUtc: end };
      }),
    }),
  );
  await ctx.ledger.appendAudit(
    newAuditEvent({
      actor: caller.principal.id,
      action: "grant.extend",
      target: { policy: grant.policy, grant: grant.id },
      outcome: "success",
      message: `extended by ${formatDuration(epochMs(done.endTimeUtc) - epochMs(grant.endTimeUtc))}, until ${done.endTimeUtc} (was ${grant.endTimeUtc})`,
    }),
  );
  await announce(ctx, "extended", done, { actor: caller.principal.id, detail: `until ${done.endTimeUtc} (was ${grant.endTimeUtc})` });
  // An expiry scheduled for the old end finds nothing due then; the new end needs its own.
  await scheduleExpiry(ctx.expiry, done, ctx.progress);
  return done;
}

/**
 * The grant with every port (and every change that ends early) `by` ms later, or `RequestNotAllowed`
 * naming the latest end the policy allows when a port would outlast its maximum from the start.
 */
function lengthened(grant: Grant, by: number, maxFor: (vmId: string, port: number, protocol: string) => number): Grant {
  const start = epochMs(grant.createdAt);
  const later = (t: string) => utc(epochMs(t) + by);
  const virtualMachines = grant.virtualMachines.map((vm) => ({
    ...vm,
    ports: vm.ports.map((p) => {
      const max = maxFor(vm.id, p.number, p.protocol);
      const end = epochMs(p.endTimeUtc) + by;
      if (end - start > max) {
        throw new JitError(
          "RequestNotAllowed",
          `port ${p.number} may be open at most ${formatDuration(max)} from the grant's start (${grant.createdAt}), so until ${utc(start + max)}; it is open until ${p.endTimeUtc}, and ${formatDuration(by)} more would take it to ${utc(end)}`,
          { field: "duration" },
        );
      }
      return { ...p, endTimeUtc: later(p.endTimeUtc) };
    }),
  }));
  return parseGrant({
    ...grant,
    virtualMachines,
    endTimeUtc: later(grant.endTimeUtc),
    changes: grant.changes.map((c) => (c.endTimeUtc === undefined ? c : { ...c, endTimeUtc: later(c.endTimeUtc) })),
  });
}
