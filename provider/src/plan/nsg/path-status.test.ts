import { test } from "node:test";
import assert from "node:assert/strict";
import type { PortStatus } from "./deny-baseline";
import { pathPortStatus } from "./path-status";
import type { RuleRef } from "./types";

const rule = (nsgId: string, name: string): RuleRef => ({ nsgId, name, priority: 300, access: "Allow" });
const protectedPort: PortStatus = { vm: "vm1", port: 22, protocol: "TCP", status: "protected" };
const exposedBy = (r: RuleRef): PortStatus => ({ vm: "vm1", port: 22, protocol: "TCP", status: "exposed", exposedBy: [r] });

test("a port is closed on a path when any NSG on it closes it, since traffic must pass them all", () => {
  assert.deepEqual(pathPortStatus([protectedPort, undefined]), { exposed: false });
  assert.deepEqual(pathPortStatus([undefined, protectedPort]), { exposed: false });
  assert.deepEqual(pathPortStatus([exposedBy(rule("subnet", "ssh")), protectedPort]), { exposed: false });
});

test("a port is open on a path only when every level lets it through, naming the rules that do", () => {
  const subnet = rule("subnet", "ssh-office");
  const nic = rule("nic", "ssh-any");
  assert.deepEqual(pathPortStatus([exposedBy(subnet), exposedBy(nic)]), { exposed: true, exposedBy: [subnet, nic] });
  assert.deepEqual(pathPortStatus([undefined, exposedBy(nic)]), { exposed: true, exposedBy: [nic] });
  assert.deepEqual(pathPortStatus([undefined, undefined]), { exposed: true, exposedBy: [] }, "no NSG at all: open through nothing in particular");
});
