/**
 * One process of the contention test: a broker (requests access until `count` grants carry its
 * name) or a sweeper (sweeps until killed), both through the `access/` use cases, on the shared
 * ledger at JIT_LEDGER, against the shared cloud the test serves over HTTP. The clock runs fast
 * (JIT_CLOCK = "<virtual start ms>,<real start ms>,<speed>") so that grants expire within seconds.
 *
 *   node --import tsx contention-worker.ts broker <name> <count> <cloud url>
 *   node --import tsx contention-worker.ts sweeper <name> <cloud url>
 */
import { openLedger } from "../../provider/src/ledger";
import { requestAccess, sweep } from "../../provider/src/access";
import type { BaselineResult, ChangeJournal, CloudDriver, OrphanReport, Principal, RestoreReport } from "../../provider/src/driver";
import type { Change, Grant } from "../../provider/src/model";

const [role, name, ...rest] = process.argv.slice(2);
const [virtualStart, realStart, speed] = (process.env.JIT_CLOCK ?? "").split(",").map(Number);
const now = () => new Date(virtualStart + (Date.now() - realStart) * speed);

/** The test's cloud: rules live there, shared by every process; removing a missing rule is "already gone". */
class HttpCloud implements CloudDriver {
  readonly cloud = "azure" as const;
  readonly requestActions = { direct: [], brokered: [] };
  constructor(private readonly url: string) {}

  isRequester(listed: string, principal: Principal): boolean {
    return listed === principal.id;
  }

  private async call(path: string, body: unknown): Promise<{ removed?: boolean }> {
    const res = await fetch(`${this.url}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`cloud ${path}: HTTP ${res.status}`);
    return (await res.json()) as { removed?: boolean };
  }

  async whoAmI(): Promise<Principal> {
    return { id: name };
  }
  async missingPermissions(_p: Principal, vmIds: string[]): Promise<Map<string, string[]>> {
    return new Map(vmIds.map((id) => [id, []]));
  }
  async applyGrant(grant: Grant, journal: ChangeJournal): Promise<void> {
    const changes: Change[] = grant.virtualMachines.flatMap((vm) =>
      vm.ports.map((p) => ({
        kind: "azure-nsg-rule" as const,
        status: "intended" as const,
        nsgId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg",
        ruleName: `jit-${grant.id}-${p.number}`,
        priority: 100 + (p.number % 100),
        rule: { source: p.sourceAddressPrefix },
      })),
    );
    await journal.intend(changes);
    for (const c of changes) {
      if (c.kind !== "azure-nsg-rule") continue;
      await this.call("/open", { rule: c.ruleName, grant: grant.id });
      await journal.update({ ...c, status: "applied" });
    }
  }
  async restoreGrant(grant: Grant, journal: ChangeJournal): Promise<RestoreReport> {
    const report: RestoreReport = { removed: 0, alreadyGone: 0, mismatches: [] };
    for (const c of grant.changes) {
      if (c.status === "removed" || c.kind !== "azure-nsg-rule") continue;
      const { removed } = await this.call("/remove", { rule: c.ruleName, grant: grant.id, by: name });
      if (removed) report.removed++;
      else report.alreadyGone++;
      await journal.update({ ...c, status: "removed" });
    }
    return report;
  }
  async sweepOrphans(): Promise<OrphanReport[]> {
    return [];
  }
  async applyBaseline(): Promise<BaselineResult> {
    return { record: {}, vms: [], rules: [], drift: [], warnings: [] };
  }
  async removeBaseline(): Promise<void> {}
  async inspectBaseline(): Promise<BaselineResult> {
    return { record: {}, vms: [], rules: [], drift: [], warnings: [] };
  }
}

async function main(): Promise<void> {
  const ledger = await openLedger(process.env.JIT_LEDGER);
  if (role === "broker") {
    const [count, cloudUrl, vm, base] = rest;
    const drivers = { azure: new HttpCloud(cloudUrl) };
    const made = async () => (await ledger.listGrants()).filter((g) => g.justification === name).length;
    for (let i = await made(); i < Number(count); ) {
      const minutes = 5 + Math.floor(Math.random() * 56);
      // A source of its own per grant, so that no grant supersedes another.
      const source = `198.18.${Number(base) + (i >> 8)}.${i & 255}`;
      try {
        await requestAccess(
          { policy: "web", justification: name, virtualMachines: [{ id: vm, ports: [{ number: 22, duration: `PT${minutes}M`, allowedSourceAddressPrefix: source }] }] },
          { ledger, drivers, now },
        );
        i++;
      } catch (err) {
        // A sweeper took the grant while it was being applied (it looked abandoned), or the store
        // failed: count again what was recorded.
        process.stderr.write(`${name}: ${(err as Error).message}\n`);
        i = await made();
      }
    }
  } else {
    const [cloudUrl] = rest;
    const drivers = { azure: new HttpCloud(cloudUrl) };
    for (;;) {
      await sweep({ ledger, drivers, now, scope: {}, repairBaselines: false, abandonedAfterMs: 60 * 60_000 });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await ledger.close();
}

main().catch((err) => {
  process.stderr.write(`${name}: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
