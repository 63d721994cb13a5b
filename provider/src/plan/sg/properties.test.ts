import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isJitError } from "../../model/errors";
import { ec2Protocols } from "../protocols";
import { planSgBaseline, planSgRestore, type SgBaselinePlan } from "./baseline";
import { sgEvaluator, type SgFlow } from "./evaluator";
import { entriesOfGroup, entryKey } from "./permissions";
import type { SecurityGroup } from "./types";
import type { PortSpec } from "../types";
import { applySgChange, groupFingerprint, withEntries } from "../testing/sg-apply";
import { FLOWS, entriesArb, groupsArb, policyPortsArb } from "../testing/sg-arbitraries";

const RUNS = { numRuns: 1000 };

function applyPlan(groups: readonly SecurityGroup[], plan: SgBaselinePlan): SecurityGroup[] {
  return groups.map((g) => plan.changes.filter((c) => c.groupId === g.GroupId).reduce(applySgChange, g));
}

function baseline(groups: SecurityGroup[], ports: readonly PortSpec[]): SgBaselinePlan | undefined {
  try {
    return planSgBaseline({ policy: "web", groups, ports });
  } catch (e) {
    if (isJitError(e, "CapacityExceeded")) return undefined;
    throw e;
  }
}

const closes = (ports: readonly PortSpec[], f: SgFlow) => ports.some((p) => p.number === f.port && (ec2Protocols(p.protocol) as string[]).includes(f.protocol));
const fingerprints = (groups: readonly SecurityGroup[]) => groups.map(groupFingerprint);

test("property: the AWS baseline closes the selected ports and leaves every other protocol, port and source as reachable as before", () => {
  fc.assert(
    fc.property(groupsArb, policyPortsArb, (groups, ports) => {
      const plan = baseline(groups, ports);
      if (!plan) return;
      const before = sgEvaluator(groups);
      const after = sgEvaluator(applyPlan(groups, plan));
      for (const f of FLOWS) {
        const open = after(f).length > 0;
        if (closes(ports, f)) assert.equal(open, false, `${JSON.stringify(f)} is closed`);
        else assert.equal(open, before(f).length > 0, `${JSON.stringify(f)} is as before`);
      }
    }),
    RUNS,
  );
});

test("property: restore returns the groups to the originals plus whatever others changed meanwhile, duplicating nothing", () => {
  const edits = fc.array(fc.record({ group: fc.nat(), add: entriesArb, remove: fc.array(fc.nat(), { maxLength: 2 }), readd: fc.boolean() }), { maxLength: 3 });
  fc.assert(
    fc.property(groupsArb, policyPortsArb, edits, (groups, ports, changes) => {
      const plan = baseline(groups, ports);
      if (!plan) return;
      const baselined = applyPlan(groups, plan);
      assert.deepEqual(planSgBaseline({ policy: "web", groups: baselined, ports, records: plan.records }).changes, [], "planning again changes nothing");
      let during = baselined;
      for (const edit of changes) {
        const i = edit.group % groups.length;
        const now = entriesOfGroup(during[i]);
        const removed = new Set(edit.remove.filter(() => now.length > 0).map((r) => entryKey(now[r % now.length])));
        const readded = edit.readd ? (plan.records.find((r) => r.groupId === groups[i].GroupId)?.revoked.slice(0, 1) ?? []) : [];
        const kept = now.filter((e) => !removed.has(entryKey(e)));
        const added = new Map([...edit.add, ...entriesOfGroup({ IpPermissions: readded })].map((e) => [entryKey(e), e]));
        for (const e of kept) added.delete(entryKey(e));
        during = during.map((g, j) => (j === i ? withEntries(g, [...kept, ...added.values()]) : g));
      }
      // What others did, net: rules (with their descriptions) that appeared or went away since the baseline.
      const expected = groups.map((g, i) => {
        const was = new Map(entriesOfGroup(baselined[i]).map((e) => [`${entryKey(e)}#${e.description}`, e]));
        const is = new Map(entriesOfGroup(during[i]).map((e) => [`${entryKey(e)}#${e.description}`, e]));
        const gone = new Set([...was.keys()].filter((k) => !is.has(k)));
        const appeared = [...is].filter(([k]) => !was.has(k)).map(([, e]) => e);
        const replaced = new Set(appeared.map(entryKey));
        const stays = entriesOfGroup(g).filter((e) => !gone.has(`${entryKey(e)}#${e.description}`) && !replaced.has(entryKey(e)));
        return withEntries(g, [...stays, ...appeared]);
      });
      const restore = planSgRestore({ policy: "web", groups: during, records: plan.records });
      assert.deepEqual(restore.records, []);
      assert.deepEqual(fingerprints(applyPlan(during, restore)), fingerprints(expected));
    }),
    RUNS,
  );
});
