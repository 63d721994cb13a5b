import { AuditRecord, verifyAuditChain } from "../model/audit";
import { JitError } from "../model/errors";
import type { Ledger } from "./ledger";
import { openLedger } from "./open";

export interface MigrationReport {
  from: string;
  to: string;
  policies: number;
  grants: number;
  auditEntries: number;
  /** The audit chain's newest hash, the same in both ledgers. */
  head?: string;
}

function chainBroken(ledger: Ledger, problems: { detail: string }[]): JitError {
  return new JitError("Unavailable", `${ledger.description}: the audit log does not verify (${problems.map((p) => p.detail).join("; ")}); run \`jit audit verify\` on it`, { field: "ledger" });
}

/**
 * Copies a ledger into an empty one: policies with their baselines, grants with their journals,
 * and audit entries at their positions with their hashes, so the copy's chain has the same head.
 * The source must verify first (a broken chain is not silently re-chained); the copy is then read
 * back and its counts and chain checked.
 */
export async function migrateLedger(from: string, to: string, progress: (message: string) => void = () => undefined): Promise<MigrationReport> {
  const source = await openLedger(from, { readOnly: true });
  try {
    const target = await openLedger(to, { init: true });
    try {
      const [policies, grants, log] = await Promise.all([source.listPolicies(), source.listGrants(), source.readAuditLog()]);
      const checked = verifyAuditChain(log);
      if (!checked.ok) throw chainBroken(source, checked.problems);
      const [hasPolicy, hasGrant, hasAudit] = await Promise.all([target.listPolicies(), target.listGrants({ limit: 1 }), target.readAuditLog()]);
      if (hasPolicy.length + hasGrant.length + hasAudit.length > 0) {
        throw new JitError("InvalidInput", `ledger ${target.description} is not empty; migrate only into a new ledger`, { field: "to" });
      }
      progress(`copying ${policies.length} policies, ${grants.length} grants and ${log.length} audit entries to ${target.description}`);
      for (const record of policies) await target.putPolicy({ policy: record.policy, baseline: record.baseline }, { expectedVersion: 0 });
      // Oldest first, so that a copy interrupted half-way holds a prefix of history.
      for (const grant of [...grants].reverse()) await target.createGrant(grant);
      for (const entry of log) await target.importAudit(AuditRecord.parse(entry.record));

      const [copiedPolicies, copiedGrants, copiedLog] = await Promise.all([target.listPolicies(), target.listGrants(), target.readAuditLog()]);
      const copied = verifyAuditChain(copiedLog);
      if (!copied.ok) throw chainBroken(target, copied.problems);
      const mismatch = [
        ["policies", policies.length, copiedPolicies.length],
        ["grants", grants.length, copiedGrants.length],
        ["audit entries", log.length, copied.entries],
      ].filter(([, a, b]) => a !== b);
      if (mismatch.length > 0 || copied.head !== checked.head) {
        throw new JitError(
          "Unavailable",
          `ledger ${target.description}: the copy does not match (${mismatch.map(([what, a, b]) => `${what}: ${a} read, ${b} written`).join("; ") || "the audit chain heads differ"}); it is incomplete, do not use it`,
          { field: "to" },
        );
      }
      return { from: source.description, to: target.description, policies: policies.length, grants: grants.length, auditEntries: log.length, ...(checked.head ? { head: checked.head } : {}) };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
