import { z } from "zod";
import { JitError } from "../model/errors";
import { Grant } from "../model/grant";
import { OutboxEntry } from "../model/notification";
import { parseVmId, vmKey } from "../model/vm";
import { parseOrThrow } from "../model/validate";
import { LedgerCorruptError } from "./ledger";

/** Parses a stored record; a failure names the table and key and says what is wrong. */
export function decode<S extends z.ZodType>(schema: S, what: string, table: string, key: string, text: unknown): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch (err) {
    throw new LedgerCorruptError(table, key, `not JSON (${(err as Error).message})`, { cause: err });
  }
  try {
    return parseOrThrow(schema, value, what);
  } catch (err) {
    throw new LedgerCorruptError(table, key, (err as Error).message, { cause: err });
  }
}

/** A stored record's own key columns must agree with its record; a mismatch means the row was edited or damaged. */
export function agree(table: string, key: string, pairs: [string, unknown, unknown][]): void {
  for (const [name, column, record] of pairs) {
    if (column !== record) throw new LedgerCorruptError(table, key, `its ${name} column says ${JSON.stringify(column)} but its record says ${JSON.stringify(record)}`);
  }
}

/**
 * Compare-and-swap on a version: `expected` undefined always passes; 0 passes only when there is
 * no record; N only when the record is at N.
 */
export function checkVersion(what: string, current: number | undefined, expected: number | undefined): void {
  if (expected === undefined || expected === (current ?? 0)) return;
  const now = current === undefined ? "does not exist" : expected === 0 ? `already exists (at version ${current})` : `is at version ${current}`;
  throw new JitError("VersionConflict", `${what} ${now}, not at version ${expected}: someone else changed it; read it again and retry`, { field: "version" });
}

/** A positive whole number of records, or undefined for all of them. */
export function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new JitError("InvalidInput", `${limit} is not a positive whole number`, { field: "limit" });
  return limit;
}

/** The keys of a grant's VMs, sorted (a valid grant names each VM once). */
export function vmKeys(grant: { virtualMachines: readonly { id: string }[] }): string[] {
  return grant.virtualMachines.map((vm) => vmKey(parseVmId(vm.id))).sort();
}

/** What of a grant is fixed when it is created. */
export type FixedGrant = Pick<Grant, "policy" | "cloud" | "createdAt"> & { virtualMachines: readonly { id: string }[] };

/** A grant's policy, cloud, VMs and creation time are fixed when it is created; an update that changes them is refused. */
export function checkImmutable(id: string, stored: FixedGrant, next: FixedGrant): void {
  const same =
    stored.policy.toLowerCase() === next.policy.toLowerCase() &&
    stored.cloud === next.cloud &&
    stored.createdAt === next.createdAt &&
    JSON.stringify(vmKeys(stored)) === JSON.stringify(vmKeys(next));
  if (!same) throw new JitError("InvalidInput", `grant ${id}: its policy, cloud, VMs and creation time never change`, { field: "policy" });
}

/** An outbox entry to store at `expectedVersion + 1`, validated, with its key as given. */
export function nextOutbox(key: string, expectedVersion: number, next: OutboxEntry): OutboxEntry {
  const stored = parseOrThrow(OutboxEntry, { ...next, version: expectedVersion + 1 }, "outbox entry");
  if (stored.key !== key) throw new JitError("InvalidInput", `the outbox entry passed is ${stored.key}, not ${key}`, { field: "key" });
  return stored;
}
