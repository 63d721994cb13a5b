import { z } from "zod";
import { isPrefix } from "./address";
import { GrantId } from "./grant";
import { idSchema, randomId } from "./ids";
import { machineText, userText } from "./redact";
import { MAX_JUSTIFICATION_LENGTH } from "./request";
import { UtcInstant, utc } from "./time";
import { parseOrThrow } from "./validate";
import { VmId } from "./vm";

const AUDIT_ID_LENGTH = 16;

export const AuditAction = z.enum([
  "policy.create",
  "policy.update",
  "policy.delete",
  "grant.request",
  "grant.refuse",
  "grant.approve",
  "grant.apply",
  "grant.restore",
  "grant.revoke",
  "grant.expire",
  "grant.fail",
  "grant.sweep",
]);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditOutcome = z.enum(["success", "refused", "failed"]);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/**
 * One line of the audit log: who did what to which policy, grant or VM, why, from where, and how
 * it ended. Free text is stripped of anything that looks like a credential before it is stored:
 * the log is read by more people than the cloud accounts are.
 */
export const AuditEvent = z.strictObject({
  id: idSchema(AUDIT_ID_LENGTH),
  time: UtcInstant,
  /** The identity that acted: a person, a pipeline, or the reconciler. */
  actor: z.string().min(1).max(512),
  action: AuditAction,
  target: z.strictObject({
    policy: z.string().min(1).optional(),
    grant: GrantId.optional(),
    vm: VmId.optional(),
  }),
  justification: userText(MAX_JUSTIFICATION_LENGTH).optional(),
  sourceAddress: z.string().refine(isPrefix, { error: "must be an IP address, a CIDR block or *" }).optional(),
  outcome: AuditOutcome,
  /** The JitError code of a refusal or failure. */
  code: z.string().regex(/^[A-Za-z]+$/).optional(),
  message: machineText(2000).optional(),
});
export type AuditEvent = z.output<typeof AuditEvent>;
export type AuditEventInput = z.input<typeof AuditEvent>;

/** A complete audit event from what happened; the id and (unless given) the time are filled in. */
export function newAuditEvent(event: Omit<AuditEventInput, "id" | "time"> & { time?: Date | number | string }): AuditEvent {
  return parseAuditEvent({ ...event, id: randomId(AUDIT_ID_LENGTH), time: utc(event.time ?? Date.now()) });
}

export function parseAuditEvent(input: unknown, prefix = ""): AuditEvent {
  return parseOrThrow(AuditEvent, input, "audit event", prefix);
}
