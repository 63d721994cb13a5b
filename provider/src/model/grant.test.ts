import { test } from "node:test";
import assert from "node:assert/strict";
import { Change, Grant, GrantState, defenderStatus, firewallMapping, newGrant, newGrantId, parseGrant, restoreDueAt, transition } from "./grant";
import { holdGrant } from "./approval";
import { checkRequest } from "./request";
import { assertJitError } from "./testing/assert";
import { AZURE_VM, NOW, azurePolicy, sampleGrant } from "./testing/fixtures";

const nsgRule = (status: Change["status"], endTimeUtc?: string): Change => ({
  kind: "azure-nsg-rule",
  status,
  ...(endTimeUtc ? { endTimeUtc } : {}),
  nsgId: "/subscriptions/x/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/nsg1",
  ruleName: "jit-web-abcdefghijkl-22",
  priority: 100,
  rule: { access: "Allow", direction: "Inbound", protocol: "Tcp", sourceAddressPrefix: "203.0.113.7", destinationPortRange: "22", priority: 100 },
});

/** Drives a grant through the given states, removing its changes before it is restored. */
function drive(grant: Grant, ...steps: [GrantState, Parameters<typeof transition>[2]?][]): Grant {
  return steps.reduce((g, [to, reason]) => transition(to === "expired" || to === "revoked" ? { ...g, changes: g.changes.map((c) => ({ ...c, status: "removed" as const })) } : g, to, reason), grant);
}

test("grant ids: 12 characters of lower-case base32, unique", () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => newGrantId()));
  assert.equal(ids.size, 10_000);
  for (const id of [...ids].slice(0, 100)) assert.match(id, /^[a-z2-7]{12}$/);
  assert.equal(newGrantId((n) => new Uint8Array(n).fill(255)), "777777777777");
  assert.equal(newGrantId((n) => new Uint8Array(n)), "aaaaaaaaaaaa");
});

test("a new grant is pending at version 1 with nothing changed, and ends at its latest port end", () => {
  const checked = checkRequest(
    azurePolicy(),
    { virtualMachines: [{ id: AZURE_VM, ports: [{ number: 22, duration: "PT2H", allowedSourceAddressPrefix: "203.0.113.7" }, { number: 3389, duration: "PT30M" }] }], requester: "ana@contoso.com" },
    { now: NOW, sourceAddress: "198.51.100.1" },
  );
  const grant = newGrant(checked, { id: "abcdefghijkl" });
  assert.equal(grant.id, "abcdefghijkl");
  assert.equal(grant.state, "pending");
  assert.equal(grant.version, 1);
  assert.deepEqual(grant.changes, []);
  assert.equal(grant.createdAt, "2030-01-01T12:00:00.000Z");
  assert.equal(grant.endTimeUtc, "2030-01-01T14:00:00.000Z");
  assertJitError(() => newGrant({ ...checked, requester: undefined }), "InvalidInput", "requester", /a grant needs the requester's identity/);
  assertJitError(() => parseGrant({ ...grant, endTimeUtc: "2030-01-01T13:00:00.000Z" }), "InvalidInput", "endTimeUtc", /must be the latest port end, 2030-01-01T14:00:00\.000Z/);
  assertJitError(() => parseGrant({ ...grant, cloud: "aws" }), "InvalidInput", "virtualMachines[0].id", /is not an aws VM/);
});

test("the state machine allows exactly the documented moves", () => {
  const allowed: Record<GrantState, GrantState[]> = {
    pending: ["applying", "restoring"],
    applying: ["active", "failed", "restoring"],
    active: ["restoring"],
    restoring: ["expired", "revoked", "failed"],
    expired: [],
    revoked: [],
    failed: [],
    "awaiting-approval": ["applying", "denied", "expired", "restoring"],
    denied: [],
    scheduled: ["applying", "restoring"],
  };
  const reach: Record<GrantState, [GrantState, Parameters<typeof transition>[2]?][]> = {
    pending: [],
    applying: [["applying"]],
    active: [["applying"], ["active"]],
    restoring: [["applying"], ["active"], ["restoring", "UserRequested"]],
    expired: [["applying"], ["active"], ["restoring", "Expired"], ["expired"]],
    revoked: [["applying"], ["active"], ["restoring", "UserRequested"], ["revoked"]],
    failed: [["applying"], ["failed"]],
    "awaiting-approval": [],
    denied: [["denied"]],
    scheduled: [],
  };
  const states = GrantState.options;
  for (const from of states) {
    const start =
      from === "awaiting-approval" || from === "denied"
        ? holdGrant(sampleGrant(), 2, "2030-01-01T13:00:00.000Z")
        : from === "scheduled"
          ? parseGrant({ ...sampleGrant(), state: "scheduled" })
          : sampleGrant();
    const grant = drive(start, ...reach[from]);
    assert.equal(grant.state, from);
    for (const to of states) {
      const reason = to === "restoring" || to === "revoked" ? "UserRequested" : to === "expired" ? "Expired" : undefined;
      if (allowed[from].includes(to)) {
        assert.equal(transition(grant, to, reason).state, to, `${from} → ${to}`);
      } else {
        assertJitError(() => transition(grant, to, reason), "InvalidInput", "state", new RegExp(`grant ${grant.id}: ${from} cannot become ${to}`));
      }
    }
  }
});

test("reasons: restoring needs one, final states need a matching one, others take none", () => {
  const active = drive(sampleGrant(), ["applying"], ["active"]);
  assertJitError(() => transition(active, "restoring"), "InvalidInput", "state", /becoming restoring needs a reason/);
  assertJitError(() => transition(sampleGrant(), "applying", "Expired"), "InvalidInput", "state", /a reason is given only when a grant ends, not when it becomes applying/);
  const revoking = transition(active, "restoring", "UserRequested");
  assert.equal(revoking.reason, "UserRequested");
  assertJitError(() => transition(revoking, "expired"), "InvalidInput", "state", /expired needs reason Expired or ApprovalExpired, not UserRequested/);
  assert.equal(transition(revoking, "revoked").reason, "UserRequested", "the reason is kept");
  assert.equal(transition(revoking, "revoked", "NewerRequestInitiated").reason, "NewerRequestInitiated");
  const expiring = transition(active, "restoring", "Expired");
  assertJitError(() => transition(expiring, "revoked"), "InvalidInput", "state", /revoked needs reason UserRequested or NewerRequestInitiated or PolicyChanged, not Expired/);
  const failed = transition(drive(sampleGrant(), ["applying"]), "failed", undefined, "NSG nsg1 is full (1000 rules)");
  assert.equal(failed.reason, "Failed");
  assert.equal(failed.error, "NSG nsg1 is full (1000 rules)");
  assert.equal(transition(revoking, "failed", undefined, "timeout").reason, "UserRequested", "a revoke whose restore failed is still a revoke");
});

test("expired and revoked promise the network is restored: every change must be removed first", () => {
  const restoring = { ...transition(drive(sampleGrant(), ["applying"], ["active"]), "restoring", "Expired"), changes: [nsgRule("removed"), nsgRule("applied")] };
  assertJitError(() => transition(restoring, "expired"), "InvalidInput", "state", /1 change\(s\) not yet removed \(azure-nsg-rule applied\); restore them before the grant is expired/);
  assert.equal(transition({ ...restoring, changes: [nsgRule("removed"), nsgRule("removed")] }, "expired").state, "expired");
  assert.equal(transition(restoring, "failed", undefined, "rule still there").state, "failed", "failed may leave changes behind");
});

test("restoreDueAt: at the end, earlier for a change that ends earlier, at once while restoring or while a failed grant left something", () => {
  const end = Date.parse("2030-01-01T13:00:00.000Z");
  const created = NOW;
  const pending = sampleGrant();
  assert.equal(restoreDueAt(pending), end);
  assert.equal(restoreDueAt({ ...pending, state: "scheduled" }), created, "a scheduled grant is due at its start, to be opened");
  const active = { ...drive(pending, ["applying"], ["active"]), changes: [nsgRule("applied"), nsgRule("applied", "2030-01-01T12:30:00.000Z")] };
  assert.equal(restoreDueAt(active), Date.parse("2030-01-01T12:30:00.000Z"));
  assert.equal(restoreDueAt({ ...active, changes: [nsgRule("applied"), nsgRule("removed", "2030-01-01T12:30:00.000Z")] }), end, "removed changes no longer count");
  assert.equal(restoreDueAt(transition(active, "restoring", "UserRequested")), created);
  const failedWithLeftovers = transition(transition(active, "restoring", "Expired"), "failed", undefined, "boom");
  assert.equal(restoreDueAt(failedWithLeftovers), created);
  assert.equal(restoreDueAt({ ...failedWithLeftovers, changes: [] }), undefined);
  assert.equal(restoreDueAt(drive(active, ["restoring", "Expired"], ["expired"])), undefined);
});

test("Defender's status and reason derive from the state", () => {
  const pending = sampleGrant();
  assert.deepEqual(defenderStatus(pending), { status: "Initiated", statusReason: "UserRequested" });
  const active = drive(pending, ["applying"], ["active"]);
  assert.deepEqual(defenderStatus(active), { status: "Initiated", statusReason: "UserRequested" });
  assert.deepEqual(defenderStatus(drive(active, ["restoring", "Expired"], ["expired"])), { status: "Revoked", statusReason: "Expired" });
  assert.deepEqual(defenderStatus(drive(active, ["restoring", "NewerRequestInitiated"], ["revoked"])), { status: "Revoked", statusReason: "NewerRequestInitiated" });
  assert.deepEqual(defenderStatus(transition(drive(pending, ["applying"]), "failed")), { status: "Revoked", statusReason: "Failed" });
});

test("changes: each kind parses; an applied security group needs its id; unknown kinds and fields are refused", () => {
  const changes: unknown[] = [
    nsgRule("intended"),
    {
      kind: "azure-firewall-nat-rule",
      status: "applied",
      firewallId: "/subscriptions/x/resourceGroups/rg1/providers/Microsoft.Network/azureFirewalls/fw1",
      collectionName: "jit-web",
      ruleName: "jit-abcdefghijkl-22",
      vmId: AZURE_VM,
      port: 22,
      mappedPort: 50022,
      rule: { sourceAddresses: ["203.0.113.7"], destinationAddresses: ["198.51.100.10"], destinationPorts: ["50022"], protocols: ["TCP"], translatedAddress: "10.0.0.4", translatedPort: "22" },
    },
    {
      kind: "aws-sg-rule",
      status: "applied",
      groupId: "sg-0123456789abcdef0",
      ruleIds: ["sgr-0123456789abcdef0"],
      permission: { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.7/32", Description: "jit abcdefghijkl" }] },
    },
    { kind: "aws-sg", status: "intended", groupName: "jit-abcdefghijkl", vpcId: "vpc-0123", networkInterfaceIds: [] },
    { kind: "aws-sg", status: "applied", groupName: "jit-abcdefghijkl", groupId: "sg-0aaa", networkInterfaceIds: ["eni-0123"] },
  ];
  const grant = parseGrant({ ...sampleGrant(), changes });
  assert.deepEqual(grant.changes, changes);
  assert.deepEqual(firewallMapping(grant, AZURE_VM.toUpperCase(), 22), { address: "198.51.100.10", mappedPort: 50022 }, "the firewall's address and the mapped port, for any spelling of the VM id");
  assert.equal(firewallMapping(grant, AZURE_VM, 3389), undefined);
  assertJitError(() => parseGrant({ ...sampleGrant(), changes: [{ kind: "aws-sg", status: "applied", groupName: "g", networkInterfaceIds: [] }] }), "InvalidInput", "changes[0].groupId", /is required once the group is applied/);
  assertJitError(() => parseGrant({ ...sampleGrant(), changes: [{ kind: "gcp-firewall", status: "applied" }] }), "InvalidInput", "changes[0].kind", /Invalid discriminator value\. Expected 'azure-nsg-rule' \| 'azure-firewall-nat-rule' \| 'aws-sg-rule' \| 'aws-sg'/);
  assertJitError(() => parseGrant({ ...sampleGrant(), changes: [{ ...nsgRule("applied"), etag: "x" }] }), "InvalidInput", "changes[0]", /Unrecognized key: "etag"/);
  assertJitError(() => parseGrant({ ...sampleGrant(), changes: [{ ...nsgRule("applied"), priority: 99 }] }), "InvalidInput", "changes[0].priority", /Too small/);
});
