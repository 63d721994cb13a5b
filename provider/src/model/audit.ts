import { createHash } from "node:crypto";
import { z } from "zod";
import { isPrefix } from "./address";
import { GrantId, stableJson } from "./grant";
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
  "grant.hold",
  "grant.approve",
  "grant.deny",
  "grant.approval-expire",
  "grant.break-glass",
  "grant.apply",
  "grant.restore",
  "grant.revoke",
  "grant.expire",
  "grant.fail",
  "grant.sweep",
  "grant.extend",
  "grant.schedule",
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

/** The `prev` of the first entry of a chain. */
export const GENESIS = "0".repeat(64);

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, { error: "must be a SHA-256 in hex" });

/**
 * An audit event as the ledger stores it: its position in the log, the hash of the entry before it
 * and its own hash over all three. Editing, removing or inserting an entry breaks the chain at that
 * position, so `jit audit verify` can say where the log was changed. The chain is unkeyed: it
 * proves the log is intact to anybody who trusts its newest entry (export it, or sign it), not
 * against someone who can rewrite every entry after the one they changed.
 */
export const AuditRecord = z.strictObject({
  seq: z.number().int().min(1),
  prev: Sha256,
  hash: Sha256,
  event: AuditEvent,
});
export type AuditRecord = z.output<typeof AuditRecord>;

/** The hash of entry `seq`: over its position, its predecessor's hash and the event (keys sorted, so stores may reorder them). */
export function auditHash(seq: number, prev: string, event: AuditEvent): string {
  return createHash("sha256").update(`${seq}\n${prev}\n${stableJson(event)}`).digest("hex");
}

/** The entry that follows `last` (or starts the log) with `event`. */
export function chainAudit(last: Pick<AuditRecord, "seq" | "hash"> | undefined, event: AuditEvent): AuditRecord {
  const seq = (last?.seq ?? 0) + 1;
  const prev = last?.hash ?? GENESIS;
  return { seq, prev, hash: auditHash(seq, prev, event), event };
}

/** One stored entry as read back, before validation: where the store keeps it, and what it holds. */
export interface StoredAudit {
  position: number;
  record: unknown;
}

export interface AuditProblem {
  /** The 1-based position in the log where the chain breaks. */
  position: number;
  problem: "edited" | "removed" | "inserted" | "unreadable";
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries read. */
  entries: number;
  /** The newest entry's hash: keep it elsewhere to detect a later rewrite of the tail. */
  head?: string;
  problems: AuditProblem[];
}

/**
 * Walks the log oldest first and reports every place the chain breaks: an entry whose hash does not
 * match its content (edited), a gap in the positions (removed), an entry that does not follow its
 * predecessor (inserted, or the predecessor rewritten). Linear in the log's length.
 */
export function verifyAuditChain(entries: Iterable<StoredAudit>): AuditVerification {
  const problems: AuditProblem[] = [];
  let expected = 1;
  let prevHash = GENESIS;
  let count = 0;
  for (const { position, record } of entries) {
    count++;
    const parsed = AuditRecord.safeParse(record);
    if (!parsed.success || parsed.data.seq !== position) {
      problems.push({ position, problem: "unreadable", detail: `entry ${position} is not a valid audit entry${parsed.success ? ` (it says it is entry ${parsed.data.seq})` : ""}` });
      expected = position + 1;
      prevHash = parsed.success ? parsed.data.hash : prevHash;
      continue;
    }
    const entry = parsed.data;
    if (position > expected) {
      problems.push({ position: expected, problem: "removed", detail: `entries ${expected}${position - 1 > expected ? `-${position - 1}` : ""} are missing before entry ${position}` });
    } else if (entry.prev !== prevHash) {
      problems.push({ position, problem: "inserted", detail: `entry ${position} does not follow entry ${position - 1}: it was inserted, or the one before it was replaced` });
    }
    if (auditHash(entry.seq, entry.prev, entry.event) !== entry.hash) {
      problems.push({ position, problem: "edited", detail: `entry ${position} (${entry.event.action} at ${entry.event.time}) was edited: its content no longer matches its hash` });
    }
    expected = position + 1;
    prevHash = entry.hash;
  }
  return { ok: problems.length === 0, entries: count, ...(count > 0 ? { head: prevHash } : {}), problems };
}
