import { test } from "node:test";
import assert from "node:assert/strict";
import { UNKNOWN } from "../pulumi/inputs";
import { type PackageSchema, checkFunctionInputs, checkResourceInputs, packageSchema } from "./schema";

// A small document exercises each kind of check; the package's own schema.json is exercised by the
// plugin's tests and by test/schema.test.ts.
const doc: PackageSchema = {
  name: "pkg",
  resources: {
    "pkg:index:Thing": {
      inputProperties: {
        name: { type: "string" },
        count: { type: "integer" },
        ratio: { type: "number" },
        on: { type: "boolean" },
        tags: { type: "object", additionalProperties: { type: "string" } },
        parts: { type: "array", items: { $ref: "#/types/pkg:index:Part" } },
        either: { oneOf: [{ type: "string" }, { $ref: "#/types/pkg:index:Part" }] },
        any: { $ref: "pulumi.json#/Any" },
      },
      requiredInputs: ["name"],
    },
  },
  functions: { "pkg:index:get": { inputs: { properties: { id: { type: "string" } }, required: ["id"] } } },
  types: {
    "pkg:index:Part": { type: "object", properties: { kind: { $ref: "#/types/pkg:index:Kind" }, size: { type: "integer" } }, required: ["kind"] },
    "pkg:index:Kind": { type: "string", enum: [{ value: "a" }, { value: "b" }] },
  },
};

test("inputs that match the schema pass, unknowns anywhere included", () => {
  const good = { name: "x", count: 2, ratio: 0.5, on: true, tags: { a: "b" }, parts: [{ kind: "a", size: 1 }], either: { kind: "b" }, any: [1, { x: null }] };
  assert.deepEqual(checkResourceInputs(doc, "pkg:index:Thing", good), []);
  assert.deepEqual(checkResourceInputs(doc, "pkg:index:Thing", { name: UNKNOWN, parts: [UNKNOWN, { kind: UNKNOWN }] }), []);
});

test("each mistake is reported with its path", () => {
  const failures = checkResourceInputs(doc, "pkg:index:Thing", {
    count: 1.5,
    ratio: "1",
    on: "yes",
    tags: { a: 1 },
    parts: [{ size: 2 }, { kind: "c", colour: "red" }],
    either: 3,
    extra: 1,
  });
  assert.deepEqual(
    failures.map((f) => f.property),
    ["name", "count", "ratio", "on", "tags.a", "parts[0].kind", "parts[1].kind", "parts[1].colour", "either", "extra"],
  );
  assert.match(failures.find((f) => f.property === "parts[1].kind")!.reason, /must be one of "a", "b", not "c"/);
  assert.match(failures.find((f) => f.property === "extra")!.reason, /is not a property of pkg:index:Thing; it has name, count/);
  assert.deepEqual(checkFunctionInputs(doc, "pkg:index:get", {}).map((f) => f.property), ["id"]);
  assert.match(checkResourceInputs(doc, "pkg:index:Nothing", {})[0].reason, /is not a resource of package pkg/);
});

test("the package's schema is found from the sources (and from dist/, by the same walk)", () => {
  const { text, doc: own } = packageSchema();
  assert.equal(own.name, "pulumi-jit");
  assert.deepEqual(JSON.parse(text), own);
});
