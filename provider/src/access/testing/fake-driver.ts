import type { Change, Grant, Policy } from "../../model";
import { changeKey } from "../../model";
import type { BaselineResult, ChangeJournal, CloudDriver, GrantStates, OrphanReport, Principal, Reach, ReachQuery, RestoreReport } from "../../driver";
import { parsePrefix, prefixContains } from "../../model";

/**
 * An in-memory cloud for testing the front door on its own: a grant opens one "rule" per port,
 * named after the grant and stamped with its expiry. `failAt` makes the Nth cloud write throw, and
 * `crashAt` makes it and every later call throw, as if the process had died there.
 */
export class FakeDriver implements CloudDriver {
  readonly cloud = "azure" as const;
  readonly requestActions = { direct: ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"], brokered: ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"] };
  readonly rules = new Map<string, { grantId: string; expiresAt: string; source?: string }>();
  writes = 0;
  failAt?: number;
  crashAt?: number;
  principal: Principal = { id: "00000000-0000-0000-0000-0000000000a1", name: "ana@example.com" };
  missing: string[] = [];

  async whoAmI(): Promise<Principal> {
    return this.principal;
  }

  /** The tokens permissions were asked with (the broker's callers'). */
  readonly tokensSeen: string[] = [];

  async missingPermissions(_p: Principal, vmIds: string[], _actions: string[], callerToken?: string): Promise<Map<string, string[]>> {
    if (callerToken !== undefined) this.tokensSeen.push(callerToken);
    return new Map(vmIds.map((id) => [id, this.missing]));
  }

  isRequester(listed: string, principal: Principal): boolean {
    return listed.toLowerCase() === principal.id.toLowerCase() || listed.toLowerCase() === principal.name?.toLowerCase();
  }

  private write(): void {
    this.writes += 1;
    if (this.crashAt !== undefined && this.writes >= this.crashAt) throw new Error(`crashed at write ${this.writes}`);
    if (this.failAt === this.writes) throw new Error(`cloud refused write ${this.writes}`);
  }

  changesFor(grant: Grant): Change[] {
    return grant.virtualMachines.flatMap((vm, i) =>
      vm.ports.map(
        (p): Change => ({
          kind: "azure-nsg-rule",
          status: "intended",
          endTimeUtc: p.endTimeUtc,
          nsgId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg",
          ruleName: `jit-allow-${grant.id}-${p.number}-${i}`,
          priority: 100 + p.number % 100,
          rule: { port: p.number, source: p.sourceAddressPrefix },
        }),
      ),
    );
  }

  async applyGrant(grant: Grant, journal: ChangeJournal): Promise<void> {
    const changes = this.changesFor(grant);
    await journal.intend(changes);
    for (const c of changes) {
      this.write();
      if (c.kind === "azure-nsg-rule") this.rules.set(c.ruleName, { grantId: grant.id, expiresAt: grant.endTimeUtc, source: String(c.rule.source) });
      await journal.update({ ...c, status: "applied" });
    }
  }

  /** Restamps the grant's rules with its (new) end, in place: one write per rule. */
  async extendGrant(grant: Grant): Promise<void> {
    for (const rule of this.rules.values()) {
      if (rule.grantId !== grant.id) continue;
      this.write();
      rule.expiresAt = grant.endTimeUtc;
    }
  }

  /** How many more `reach` reads answer "not yet", as a cloud that has a rule but does not apply it yet. */
  unsettledReads = 0;
  /** The public address `reach` answers. */
  host = "198.51.100.20";

  async reach(query: ReachQuery): Promise<Reach> {
    const open = [...this.rules.entries()].some(([name, r]) => name.includes(`-${query.port}-`) && r.source !== undefined && prefixContains(parsePrefix(r.source), parsePrefix(query.source)));
    const settled = this.unsettledReads === 0;
    if (open && !settled) this.unsettledReads -= 1;
    const allowed = open && settled;
    return { host: this.host, port: query.port, allowed, detail: allowed ? "rule in effect" : open ? "rule written, not yet in effect" : "no rule admits the source" };
  }

  async restoreGrant(grant: Grant, journal: ChangeJournal): Promise<RestoreReport> {
    const report: RestoreReport = { removed: 0, alreadyGone: 0, mismatches: [] };
    for (const c of grant.changes) {
      if (c.status === "removed" || c.kind !== "azure-nsg-rule") continue;
      if (this.rules.has(c.ruleName)) {
        this.write();
        this.rules.delete(c.ruleName);
        report.removed += 1;
      } else report.alreadyGone += 1;
      await journal.update({ ...c, status: "removed" });
    }
    return report;
  }

  async sweepOrphans(_scope: unknown, now: Date, grantStates: GrantStates): Promise<OrphanReport[]> {
    const grantState = await grantStates([...new Set([...this.rules.values()].map((r) => r.grantId))]);
    const out: OrphanReport[] = [];
    for (const [name, r] of this.rules) {
      if (Date.parse(r.expiresAt) <= now.getTime() || grantState(r.grantId) === "ended") {
        this.write();
        this.rules.delete(name);
        out.push({ cloud: "azure", container: "nsg", name, grantId: r.grantId, expiredAt: r.expiresAt, action: "removed" });
      }
    }
    return out;
  }

  async applyBaseline(_policy: Policy): Promise<BaselineResult> {
    return { record: {}, vms: [], rules: [], drift: [], warnings: [] };
  }

  async removeBaseline(): Promise<void> {}

  async inspectBaseline(): Promise<BaselineResult> {
    return { record: {}, vms: [], rules: [], drift: [], warnings: [] };
  }

  /** Keys of the changes a grant recorded, for assertions. */
  static keys(grant: Grant): string[] {
    return grant.changes.map(changeKey);
  }
}
