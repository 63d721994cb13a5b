import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePrefix, prefixContains } from "../../model/address";
import { isJitError } from "../../model/errors";
import type { Protocol } from "../../model/protocol";
import { planAllowGrant, type AllowGrantPlan } from "./allow";
import { planDenyBaseline, policyDenyRuleFor, type BaselineVm, type DenyBaselinePlan } from "./deny-baseline";
import { inboundEvaluator } from "./evaluator";
import { addressContext, addressTerm } from "./addresses";
import { MAX_ADDRESSES_AND_PORTS, addressesAndPorts } from "./limits";
import { compileRule, ruleTouches } from "./match";
import { parseJitRule } from "./names";
import { DENY_FLOOR, MAX_RULES_PER_NSG } from "./priorities";
import { planRestore, planSweep } from "./restore";
import type { AddedRule, Nsg, NsgChange, NsgPath, NsgProtocol, NsgRule } from "./types";
import { ALL_PORTS } from "../port-ranges";
import { nsgProtocol } from "../protocols";
import type { GrantPort, PortSpec } from "../types";
import { applyNsgChange, applyNsgChanges } from "../testing/nsg-apply";
import {
  GRANT_SOURCES,
  PORT_SAMPLES,
  SOURCE_SAMPLES,
  VIRTUAL_NETWORK,
  VM1,
  VM2,
  POLICY_PORTS,
  flowProtocols,
  nsgArb,
  topologyArb,
  userRuleArb,
} from "../testing/nsg-arbitraries";

const RUNS = { numRuns: 1000 };
const options = { virtualNetwork: VIRTUAL_NETWORK };
const EXPIRES = new Date("2030-01-01T12:00:00Z");
type Topology = typeof topologyArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs a plan, or says that it refused for lack of room (allowed, as long as it names the NSG). */
function unlessFull<T>(plan: () => T): T | undefined {
  try {
    return plan();
  } catch (e) {
    if (!isJitError(e, "CapacityExceeded")) throw e;
    assert.match(e.message, /NSG (subnet|nic) /);
    return undefined;
  }
}

function vmsBehind(t: Topology, nsgId: string): BaselineVm[] {
  return nsgId === "subnet" ? [{ ...VM1, ports: t.vm1Ports }, { ...VM2, ports: t.vm2Ports }] : [{ ...VM1, ports: t.vm1Ports }];
}

function nsgsOf(t: Topology): Nsg[] {
  return [t.subnet, t.nic].filter((n): n is Nsg => n !== null);
}

function pathOf(nsgs: readonly Nsg[], vm: string): NsgPath {
  return { subnet: nsgs.find((n) => n.id === "subnet"), nic: vm === "vm1" ? nsgs.find((n) => n.id === "nic") : undefined };
}

const userRules = (n: Nsg) => n.securityRules.filter((r) => parseJitRule(r) === undefined).sort((a, b) => a.name.localeCompare(b.name));

/** A change writes and deletes only rules of ours, and leaves every user rule as it was. */
function assertOnlyOurs(before: Nsg, change: NsgChange, after: Nsg): void {
  const existing = new Map(before.securityRules.map((r) => [r.name, r]));
  for (const r of change.put) {
    assert.ok(parseJitRule(r), `puts only rules of ours: ${r.name}`);
    const old = existing.get(r.name);
    assert.ok(!old || parseJitRule(old), `never overwrites user rule ${r.name}`);
  }
  for (const name of change.delete) assert.ok(parseJitRule(existing.get(name) ?? { name }), `deletes only rules of ours: ${name}`);
  assert.deepEqual(userRules(after), userRules(before));
}

function baseline(t: Topology): { nsgs: Nsg[]; plans: Map<string, DenyBaselinePlan> } | undefined {
  const plans = new Map<string, DenyBaselinePlan>();
  const nsgs: Nsg[] = [];
  for (const n of nsgsOf(t)) {
    const plan = unlessFull(() => planDenyBaseline({ policy: "web", nsg: n, vms: vmsBehind(t, n.id), virtualNetwork: VIRTUAL_NETWORK }));
    if (!plan) return undefined;
    const after = applyNsgChange(n, plan.change);
    assertOnlyOurs(n, plan.change, after);
    plans.set(n.id, plan);
    nsgs.push(after);
  }
  return { nsgs, plans };
}

function grant(nsgs: Nsg[], grantId: string, port: GrantPort): { plan: AllowGrantPlan; nsgs: Nsg[] } | undefined {
  const path = pathOf(nsgs, "vm1");
  const plan = unlessFull(() => planAllowGrant({ grantId, policy: "web", vms: [{ ...VM1, nics: [{ addresses: VM1.addresses, ...path }], ports: [port], virtualNetwork: VIRTUAL_NETWORK }] }));
  if (!plan) return undefined;
  const after = applyNsgChanges(nsgs, plan.changes);
  nsgs.forEach((n, i) => assertOnlyOurs(n, plan.changes.find((c) => c.nsgId === n.id) ?? { nsgId: n.id, put: [], delete: [] }, after[i]));
  return { plan, nsgs: after };
}

function restore(nsgs: Nsg[], recorded: readonly AddedRule[]): Nsg[] {
  const plan = planRestore(recorded, nsgs);
  const after = applyNsgChanges(nsgs, plan.changes);
  nsgs.forEach((n, i) => assertOnlyOurs(n, plan.changes.find((c) => c.nsgId === n.id) ?? { nsgId: n.id, put: [], delete: [] }, after[i]));
  return after;
}

const inside = (source: string, sample: string) => prefixContains(parsePrefix(source), parsePrefix(sample));

/** Every sampled flow to either VM: who, where, which port and protocol (ICMP only where a `*` port could let it in). */
const SAMPLED_FLOWS = [VM1, VM2].flatMap((vm) =>
  vm.addresses.flatMap((destination) =>
    PORT_SAMPLES.flatMap((port) =>
      (["Tcp", "Udp", ...(port === 5985 || port === 22 ? ["Icmp"] : [])] as NsgProtocol[]).flatMap((protocol) => SOURCE_SAMPLES.map((source) => ({ vm: vm.name, source, destination, port, protocol }))),
    ),
  ),
);

/** Whether each sampled flow gets in. */
function reachability(nsgs: readonly Nsg[]): boolean[] {
  const decide = { vm1: inboundEvaluator(pathOf(nsgs, "vm1"), options), vm2: inboundEvaluator(pathOf(nsgs, "vm2"), options) };
  return SAMPLED_FLOWS.map((f) => decide[f.vm as "vm1" | "vm2"](f).allowed);
}

const grantPortArb = fc.record({ spec: fc.constantFrom<PortSpec>(...[{ number: 22, protocol: "TCP" }, { number: 53, protocol: "UDP" }, { number: 5985, protocol: "*" }] as PortSpec[]), source: fc.constantFrom(...GRANT_SOURCES) });
const withGrantPort = (t: Topology, g: { spec: PortSpec; source: string }): [Topology, GrantPort] => [
  { ...t, vm1Ports: [...t.vm1Ports.filter((p) => p.number !== g.spec.number), g.spec] },
  { ...g.spec, source: g.source, expiresAt: EXPIRES },
];

test("property: after the baseline a selected port is closed to every source, unless a user rule ahead of it opens it, and then the plan names that rule", () => {
  fc.assert(
    fc.property(topologyArb, (t) => {
      const done = baseline(t);
      if (!done) return;
      for (const after of done.nsgs) {
        const plan = done.plans.get(after.id) as DenyBaselinePlan;
        assert.deepEqual(planDenyBaseline({ policy: "web", nsg: after, vms: vmsBehind(t, after.id), virtualNetwork: VIRTUAL_NETWORK }).change.put, [], "planning again changes nothing");
        for (const vm of vmsBehind(t, after.id)) {
          for (const spec of vm.ports) {
            const status = plan.ports.find((p) => p.vm === vm.name && p.port === spec.number && p.protocol === spec.protocol);
            const exposedBy = status?.status === "exposed" ? status.exposedBy : [];
            const deny = policyDenyRuleFor(after, "web", vm.addresses[0], spec.number) as NsgRule;
            for (const r of exposedBy) assert.ok(r.access === "Allow" && r.priority < deny.priority, `${r.name} is an allow rule ahead of our deny`);
            const decide = inboundEvaluator({ nic: after }, options);
            for (const destination of vm.addresses)
              for (const protocol of flowProtocols(spec.protocol))
                for (const source of SOURCE_SAMPLES) {
                  const d = decide({ source, destination, port: spec.number, protocol }).nic;
                  if (!d.allowed) continue;
                  assert.ok(
                    exposedBy.some((r) => r.name === d.rule?.name),
                    `${source} reaches ${vm.name}:${spec.number}/${protocol} in ${after.id} through ${d.rule?.name}, which the plan must report`,
                  );
                }
          }
        }
      }
    }),
    RUNS,
  );
});

test("property: during a grant the port is open to the grant's source, and nothing else opens", () => {
  fc.assert(
    fc.property(topologyArb, grantPortArb, (topology, g) => {
      const [t, port] = withGrantPort(topology, g);
      const base = baseline(t);
      if (!base) return;
      const granted = grant(base.nsgs, "grant1", port);
      if (!granted) return;
      const before = reachability(base.nsgs);
      const during = reachability(granted.nsgs);
      const sources = new Set(SOURCE_SAMPLES.filter((s) => inside(port.source, s)));
      const protocols = flowProtocols(port.protocol);
      SAMPLED_FLOWS.forEach((f, i) => {
        const inGrant = f.vm === "vm1" && f.port === port.number && sources.has(f.source) && protocols.includes(f.protocol);
        if (inGrant) assert.ok(during[i], `${JSON.stringify(f)} is granted`);
        else assert.equal(during[i], before[i], `${JSON.stringify(f)} is not the grant's business`);
      });
      const wholePrefix = inboundEvaluator(pathOf(granted.nsgs, "vm1"), options);
      for (const protocol of flowProtocols(port.protocol)) assert.ok(wholePrefix({ source: port.source, destination: VM1.addresses[0], port: port.number, protocol }).allowed, "the whole source prefix gets in");
    }),
    RUNS,
  );
});

/** Many VMs behind one NSG, each with one of two port sets. */
const fleetArb = fc.record({
  nsg: nsgArb("subnet"),
  portSets: fc.tuple(fc.subarray(POLICY_PORTS, { minLength: 1 }), fc.subarray(POLICY_PORTS, { minLength: 1 })),
  choices: fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
});

test("property: shared deny rules close every VM's ports but where a user rule ahead opens them, leave user rules alone, number at most one per placement, and keep Azure's limits", () => {
  fc.assert(
    fc.property(fleetArb, ({ nsg, portSets, choices }) => {
      const vms: BaselineVm[] = choices.map((second, i) => ({ name: `vm${i}`, addresses: [`10.1.2.${20 + i}`], ports: portSets[second ? 1 : 0] }));
      const plan = unlessFull(() => planDenyBaseline({ policy: "web", nsg, vms, virtualNetwork: VIRTUAL_NETWORK }));
      if (!plan) return;
      const after = applyNsgChange(nsg, plan.change);
      assertOnlyOurs(nsg, plan.change, after);
      assert.deepEqual(planDenyBaseline({ policy: "web", nsg: after, vms, virtualNetwork: VIRTUAL_NETWORK }).change.put, [], "planning again changes nothing");

      const decide = inboundEvaluator({ nic: after }, options);
      const ctx = addressContext(VIRTUAL_NETWORK, undefined);
      const userAllows = nsg.securityRules.filter((r) => r.direction === "Inbound" && r.access === "Allow").map((r) => compileRule(nsg.id, r));
      const placements = new Set<string>();
      for (const vm of vms) {
        for (const spec of vm.ports) {
          const deny = policyDenyRuleFor(after, "web", vm.addresses[0], spec.number);
          assert.ok(deny, `${vm.name}:${spec.number} has a deny rule`);
          for (const protocol of flowProtocols(spec.protocol))
            for (const source of SOURCE_SAMPLES) {
              const d = decide({ source, destination: vm.addresses[0], port: spec.number, protocol }).nic;
              if (d.allowed) assert.ok(parseJitRule(d.rule ?? { name: "" }) === undefined && (d.rule?.priority ?? 0) < deny.priority, `${source} reaches ${vm.name}:${spec.number} only through a user rule ahead of the deny`);
            }
        }
        for (const protocol of ["TCP", "UDP", "*"] as const satisfies readonly Protocol[]) {
          const ports = vm.ports.filter((p) => p.protocol === protocol).map((p) => p.number).sort((a, b) => a - b);
          if (ports.length === 0) continue;
          const flows = { sources: [addressTerm("*")], destinations: [addressTerm(vm.addresses[0])], ports: ports.map((p) => ({ from: p, to: p })), sourcePorts: [ALL_PORTS], protocol: nsgProtocol(protocol) };
          const last = Math.max(0, ...userAllows.filter((c) => ruleTouches(c, flows, ctx)).map((c) => c.ref.priority));
          placements.add(`${protocol}|${ports.join(",")}|${Math.max(DENY_FLOOR, last + 1)}`);
        }
      }
      const ours = after.securityRules.filter((r) => parseJitRule(r)?.kind === "deny");
      assert.ok(ours.length <= placements.size, `${ours.length} deny rules for ${placements.size} placements`);
      assert.ok(after.securityRules.length <= MAX_RULES_PER_NSG);
      assert.ok(after.securityRules.reduce((sum, r) => sum + addressesAndPorts(r), 0) <= MAX_ADDRESSES_AND_PORTS);
    }),
    RUNS,
  );
});

type UserEdit = { kind: "add"; rule: NsgRule; nsg: number } | { kind: "delete"; index: number; nsg: number } | { kind: "edit"; index: number; nsg: number; rule: NsgRule };

const userEditsArb = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("add" as const), nsg: fc.nat(), priority: fc.integer({ min: 100, max: 4096 }), i: fc.nat() }).chain((e) => userRuleArb(`late-${e.i}`, e.priority).map((rule): UserEdit => ({ kind: "add", nsg: e.nsg, rule }))),
    fc.record({ kind: fc.constant("delete" as const), nsg: fc.nat(), index: fc.nat() }),
    fc.record({ nsg: fc.nat(), index: fc.nat() }).chain((e) => userRuleArb("edited", 100).map((rule): UserEdit => ({ kind: "edit", ...e, rule }))),
  ),
  { maxLength: 4 },
);

/** Applies what other people do to user rules; edits the same way whether or not our rules are there. */
function applyUserEdit(nsgs: Nsg[], edit: UserEdit, taken: (n: Nsg) => Set<number>): Nsg[] {
  if (nsgs.length === 0) return nsgs;
  const target = nsgs[edit.nsg % nsgs.length];
  const users = userRules(target);
  let rules = target.securityRules;
  if (edit.kind === "add") {
    if (rules.some((r) => r.name === edit.rule.name) || taken(target).has(edit.rule.priority)) return nsgs;
    rules = [...rules, edit.rule];
  } else if (users.length === 0) {
    return nsgs;
  } else if (edit.kind === "delete") {
    const victim = users[edit.index % users.length].name;
    rules = rules.filter((r) => r.name !== victim);
  } else {
    const victim = users[edit.index % users.length];
    rules = rules.map((r) => (r.name === victim.name ? { ...edit.rule, name: victim.name, priority: victim.priority, direction: victim.direction } : r));
  }
  return nsgs.map((n) => (n === target ? { ...n, securityRules: rules } : n));
}

test("property: after restore the rules are those from before the grant plus whatever others changed in between", () => {
  fc.assert(
    fc.property(topologyArb, grantPortArb, userEditsArb, (topology, g, edits) => {
      const [t, port] = withGrantPort(topology, g);
      const base = baseline(t);
      if (!base) return;
      const granted = grant(base.nsgs, "grant1", port);
      if (!granted) return;
      let during = granted.nsgs;
      let expected = base.nsgs;
      for (const edit of edits) {
        const snapshot = during;
        const taken = (n: Nsg) => new Set(snapshot.find((d) => d.id === n.id)?.securityRules.map((r) => r.priority));
        during = applyUserEdit(during, edit, taken);
        expected = applyUserEdit(expected, edit, taken);
      }
      const restored = restore(during, granted.plan.rules);
      const byName = (nsgs: Nsg[]) => nsgs.map((n) => ({ ...n, securityRules: [...n.securityRules].sort((a, b) => a.name.localeCompare(b.name)) }));
      assert.deepEqual(byName(restored), byName(expected));
    }),
    RUNS,
  );
});

test("property: overlapping grants never close each other; restoring both gives back the baseline", () => {
  const overlapping = fc.constantFrom(...[["8.8.8.8", "8.8.8.8"], ["8.8.8.8", "8.8.8.0/24"], ["8.8.8.0/24", "8.8.8.8"], ["*", "1.2.3.4"], ["203.0.113.0/24", "203.0.113.0/24"]]);
  fc.assert(
    fc.property(topologyArb, grantPortArb, overlapping, fc.boolean(), (topology, g, [sourceA, sourceB], firstA) => {
      const [t, portA] = withGrantPort(topology, { ...g, source: sourceA });
      const portB = { ...portA, source: sourceB };
      const base = baseline(t);
      if (!base) return;
      const a = grant(base.nsgs, "grantA", portA);
      if (!a) return;
      const b = grant(a.nsgs, "grantB", portB);
      if (!b) return;
      const [ended, remaining, remainingPort] = firstA ? [a, b, portB] : [b, a, portA];
      const afterOne = restore(b.nsgs, ended.plan.rules);
      const decide = inboundEvaluator(pathOf(afterOne, "vm1"), options);
      for (const protocol of flowProtocols(remainingPort.protocol)) {
        for (const source of [remainingPort.source, ...SOURCE_SAMPLES.filter((s) => inside(remainingPort.source, s))]) {
          assert.ok(decide({ source, destination: VM1.addresses[0], port: remainingPort.number, protocol }).allowed, `${source} still gets in`);
        }
      }
      assert.deepEqual(restore(afterOne, remaining.plan.rules), base.nsgs);
    }),
    RUNS,
  );
});

test("property: no plan ever renumbers, edits or deletes a user rule", () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant("grant" as const), port: grantPortArb }),
    fc.record({ kind: fc.constant("restore" as const), which: fc.nat() }),
    fc.record({ kind: fc.constant("sweep" as const) }),
    fc.record({ kind: fc.constant("policy" as const), ports: fc.subarray([{ number: 22, protocol: "TCP" }, { number: 3389, protocol: "TCP" }, { number: 53, protocol: "UDP" }] as PortSpec[]) }),
  );
  fc.assert(
    fc.property(topologyArb, fc.array(step, { maxLength: 5 }), (t, steps) => {
      let nsgs = nsgsOf(t);
      const grants: AddedRule[][] = [];
      const apply = (changes: NsgChange[]) => {
        const after = applyNsgChanges(nsgs, changes);
        nsgs.forEach((n, i) => assertOnlyOurs(n, changes.find((c) => c.nsgId === n.id) ?? { nsgId: n.id, put: [], delete: [] }, after[i]));
        nsgs = after;
      };
      for (const s of steps) {
        if (s.kind === "policy") {
          const changes = nsgs.map((n) => unlessFull(() => planDenyBaseline({ policy: "web", nsg: n, vms: vmsBehind({ ...t, vm1Ports: s.ports, vm2Ports: s.ports }, n.id) }).change));
          if (changes.every((c): c is NsgChange => c !== undefined)) apply(changes);
        } else if (s.kind === "grant") {
          const done = grant(nsgs, `grant${grants.length}`, { ...s.port.spec, source: s.port.source, expiresAt: new Date(EXPIRES.getTime() + grants.length * 60_000) });
          if (done) {
            nsgs = done.nsgs;
            grants.push(done.plan.rules);
          }
        } else if (s.kind === "restore" && grants.length > 0) {
          apply(planRestore(grants[s.which % grants.length], nsgs).changes);
        } else if (s.kind === "sweep") {
          apply(nsgs.map((n) => planSweep(n, new Date(EXPIRES.getTime() + 60_000)).change));
        }
      }
    }),
    RUNS,
  );
});
