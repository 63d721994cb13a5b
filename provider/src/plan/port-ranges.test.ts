import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../model/errors";
import { parsePortRange, rangesCover, rangesOverlap, subtractPorts } from "./port-ranges";

test("port expressions: *, a port, a range; nothing else", () => {
  assert.deepEqual(parsePortRange("*"), { from: 0, to: 65535 });
  assert.deepEqual(parsePortRange("22"), { from: 22, to: 22 });
  assert.deepEqual(parsePortRange(" 20-25 "), { from: 20, to: 25 });
  for (const bad of ["636, 389", "25-20", "65536", "-1", "a", "1-2-3", ""]) {
    assert.throws(() => parsePortRange(bad, "rule.destinationPortRange"), (e: unknown) => isJitError(e, "InvalidInput") && (e as { field?: string }).field === "rule.destinationPortRange", bad);
  }
});

test("ranges overlap, cover, and split around ports", () => {
  assert.ok(rangesOverlap([{ from: 20, to: 25 }], [{ from: 25, to: 30 }]));
  assert.ok(!rangesOverlap([{ from: 20, to: 25 }], [{ from: 26, to: 30 }]));
  assert.ok(rangesCover([{ from: 0, to: 10 }, { from: 20, to: 30 }], [{ from: 22, to: 22 }, { from: 3, to: 4 }]));
  assert.ok(!rangesCover([{ from: 0, to: 10 }, { from: 11, to: 30 }], [{ from: 5, to: 15 }]), "one range must hold each");
  assert.deepEqual(subtractPorts({ from: 0, to: 65535 }, [22]), [{ from: 0, to: 21 }, { from: 23, to: 65535 }]);
  assert.deepEqual(subtractPorts({ from: 22, to: 22 }, [22]), []);
  assert.deepEqual(subtractPorts({ from: 0, to: 100 }, [100, 0, 50, 51, 9999]), [{ from: 1, to: 49 }, { from: 52, to: 99 }]);
});
