import { test } from "node:test";
import assert from "node:assert/strict";
import { UNKNOWN } from "../pulumi/inputs";
import { DiffKind, detailedDiff } from "./diff";

const port = (number: number) => ({ number, protocol: "TCP" });
const KEYS = ["policyName", "virtualMachines", "requesters"];

test("a detailed diff names each changed leaf, added and removed element", () => {
  const olds = { policyName: "web", virtualMachines: [{ id: "i-1", ports: [port(22), port(80)] }], requesters: ["a"] };
  const news = { policyName: "web", virtualMachines: [{ id: "i-1", ports: [{ number: 2222, protocol: "TCP" }] }, { id: "i-2", ports: [port(22)] }] };
  assert.deepEqual(
    Object.fromEntries(detailedDiff(olds, news, KEYS, [])),
    {
      "virtualMachines[0].ports[0].number": DiffKind.Update,
      "virtualMachines[0].ports[1]": DiffKind.Delete,
      "virtualMachines[1]": DiffKind.Add,
      requesters: DiffKind.Delete,
    },
  );
});

test("changes under a replacing key are replacements; unknowns are updates; outputs are not compared", () => {
  const olds = { policyName: "web", virtualMachines: [{ id: "i-1", ports: [port(22)] }], rules: ["r"] };
  assert.deepEqual(Object.fromEntries(detailedDiff(olds, { ...olds, policyName: "web2", rules: [] }, KEYS, ["policyName"])), { policyName: DiffKind.UpdateReplace });
  assert.deepEqual(Object.fromEntries(detailedDiff(olds, { ...olds, virtualMachines: UNKNOWN }, KEYS, [])), { virtualMachines: DiffKind.Update });
  assert.deepEqual(Object.fromEntries(detailedDiff({}, { policyName: "x" }, KEYS, ["policyName"])), { policyName: DiffKind.AddReplace });
  assert.equal(detailedDiff(olds, olds, KEYS, []).size, 0);
});
