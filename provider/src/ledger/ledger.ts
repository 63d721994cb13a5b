import { z } from "zod";
import { AuditAction, AuditEvent, AuditEventInput, AuditOutcome, AuditRecord, StoredAudit } from "../model/audit";
import { Grant, GrantState } from "../model/grant";
import { NotificationEvent, OutboxEntry } from "../model/notification";
import { Policy, PolicyInput } from "../model/policy";
import { UtcInstant } from "../model/time";
import { Cloud } from "../model/vm";

/**
 * A policy as the ledger keeps it: the validated policy, and what laying its baseline changed in
 * the cloud (deny rules placed, AWS rules revoked) so that removing the policy can undo exactly
 * that. The baseline's shape belongs to the cloud adapters; the ledger only requires JSON.
 */
export const PolicyRecord = z.strictObject({
  policy: Policy,
  baseline: z.json(),
  /** Bumped on every write (optimistic concurrency). */
  version: z.number().int().min(1),
  updatedAt: UtcInstant,
});
export type PolicyRecord = z.output<typeof PolicyRecord>;

export interface PolicyWrite {
  policy: Policy | PolicyInput;
  baseline?: z.JSONType;
}

/**
 * `expectedVersion` makes a write compare-and-swap: 0 means "only if no such record exists", N means
 * "only if the record is still at version N"; otherwise `VersionConflict`. Without it the write
 * is unconditional.
 */
export interface WriteOptions {
  expectedVersion?: number;
}

export interface GrantFilter {
  state?: GrantState | readonly GrantState[];
  policy?: string;
  /** Any spelling of the VM id (case, instance ARN or bare id). */
  vm?: string;
  cloud?: Cloud;
  limit?: number;
}

export interface AuditFilter {
  action?: AuditAction | AuditAction[];
  actor?: string;
  outcome?: AuditOutcome;
  policy?: string;
  grant?: string;
  vm?: string;
  /** Inclusive bounds on the event time. */
  since?: Date | number | string;
  until?: Date | number | string;
  limit?: number;
}

/**
 * The durable record of policies, grants and the audit log. Grants are written before the cloud is
 * touched and updated by compare-and-swap, so that concurrent writers (a request, a revoke, the
 * reconciler) never lose each other's changes. Every record read back is validated with the
 * model's schemas. Methods are async so that remote stores (Azure Table, DynamoDB) fit the same
 * shape; "not found" is `undefined` from getters and `NotFound` from updates.
 */
export interface Ledger {
  putPolicy(write: PolicyWrite, options?: WriteOptions): Promise<PolicyRecord>;
  getPolicy(name: string): Promise<PolicyRecord | undefined>;
  listPolicies(filter?: { cloud?: Cloud }): Promise<PolicyRecord[]>;
  /** True if a record was deleted. */
  deletePolicy(name: string, options?: WriteOptions): Promise<boolean>;

  /** Stores a new grant at version 1; `Conflict` if the id exists. */
  createGrant(grant: Grant): Promise<Grant>;
  getGrant(id: string): Promise<Grant | undefined>;
  /**
   * Replaces a grant if it is still at `expectedVersion` and returns it at the next version; else
   * `VersionConflict` (read it again, re-decide, retry) or `NotFound`. A grant's policy, cloud,
   * VMs and creation time never change.
   */
  updateGrant(id: string, expectedVersion: number, next: Grant): Promise<Grant>;
  /** Newest first. */
  listGrants(filter?: GrantFilter): Promise<Grant[]>;
  /**
   * Grants the reconciler must act on by `now` (see `restoreDueAt`): in progress and past their
   * end, restores that were begun, and failed grants that may have left something in the cloud.
   * Soonest due first.
   */
  dueForRestore(now: Date | number, limit?: number): Promise<Grant[]>;

  /** When the soonest grant will be due for the reconciler (ms since the epoch), if any is. */
  nextDueAt(): Promise<number | undefined>;

  /** Validates (and redacts) the event, chains it to the newest entry (create-if-absent at the next position), and returns it. */
  appendAudit(event: AuditEvent | AuditEventInput): Promise<AuditEvent>;
  /** Newest first. */
  listAudit(filter?: AuditFilter): Promise<AuditEvent[]>;
  /** The whole audit log oldest first, as stored and not yet validated: for `verifyAuditChain`, export and migration. */
  readAuditLog(): Promise<StoredAudit[]>;
  /** Stores an entry exactly as given, only if its position is free: for `jit ledger migrate`, which keeps the chain. */
  importAudit(record: AuditRecord): Promise<void>;

  /**
   * Puts an event in the notifications outbox, after the newest entry (create-if-absent of one
   * item). The grant is never held up by it: delivery happens later, from `listOutbox`.
   */
  enqueueNotification(event: NotificationEvent): Promise<OutboxEntry>;
  /** Outbox entries oldest first, at most `limit`. */
  listOutbox(limit?: number): Promise<OutboxEntry[]>;
  /** Replaces an entry (its deliveries) if it is still at `expectedVersion`; else `VersionConflict` or `NotFound`. */
  updateOutbox(key: string, expectedVersion: number, next: OutboxEntry): Promise<OutboxEntry>;
  /** Removes a delivered entry if it is still at `expectedVersion`; false otherwise. */
  deleteOutbox(key: string, expectedVersion: number): Promise<boolean>;

  /** The ledger as people may see it: its path, or its URL with every secret removed. */
  readonly description: string;

  close(): Promise<void>;
}

/** A stored record failed validation: the store was edited by hand, damaged, or written by another program. */
export class LedgerCorruptError extends Error {
  readonly table: string;
  readonly key: string;

  constructor(table: string, key: string, problem: string, options: { cause?: unknown } = {}) {
    super(`ledger record ${table}[${JSON.stringify(key)}] is corrupt: ${problem}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LedgerCorruptError";
    this.table = table;
    this.key = key;
  }
}
