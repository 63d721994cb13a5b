import { test } from "node:test";
import assert from "node:assert/strict";
import { GrantStates, KnownGrantState, statesAsked } from "./cloud-driver";

test("statesAsked looks up, in one batch, exactly the grants the plan asks about, and none when it asks about none", async () => {
  const batches: string[][] = [];
  const ledger: Record<string, KnownGrantState> = { g1: "ended", g2: "live" };
  const grantStates: GrantStates = async (ids) => {
    batches.push([...ids]);
    return (id) => ledger[id] ?? "unknown";
  };
  const plan = (names: string[]) => (state: (id: string) => KnownGrantState) => names.filter((n) => state(n) === "ended");

  const state = await statesAsked(grantStates, plan(["g1", "g2", "g1", "g3"]));
  assert.deepEqual(batches, [["g1", "g2", "g3"]]);
  assert.deepEqual(plan(["g1", "g2", "g3"])(state), ["g1"], "the plan made again knows the states");

  const none = await statesAsked(grantStates, plan([]));
  assert.equal(batches.length, 1, "nothing asked, nothing looked up");
  assert.equal(none("g1"), "unknown");
});
