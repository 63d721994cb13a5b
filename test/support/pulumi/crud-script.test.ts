// The CRUD script holds providers to the engine's rules. These providers each break one rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { UNKNOWN, runCrudScript } from "./index";

const script = { create: { size: 1 }, update: { size: 2 } };

/** A well-behaved provider; each test overrides one method. */
function provider(overrides: Partial<pulumi.dynamic.ResourceProvider>): pulumi.dynamic.ResourceProvider {
  return {
    async check(_olds, news) {
      return { inputs: news };
    },
    async diff(_id, olds, news) {
      return { changes: olds.size !== news.size };
    },
    async create(inputs) {
      return { id: "r1", outs: { size: inputs.size, arn: "arn:r1" } };
    },
    async read(id, props) {
      return { id, props };
    },
    async update(_id, olds, news) {
      return { outs: { ...olds, size: news.size } };
    },
    async delete() {},
    ...overrides,
  };
}

test("a well-behaved provider passes", async () => {
  const trace = await runCrudScript(provider({}), script);
  assert.deepEqual(trace.final, { id: "r1", outputs: { size: 2, arn: "arn:r1" }, replaced: false });
});

test("update() must return every output, or the engine wipes the missing ones", async () => {
  const partial = provider({
    async update(_id, _olds, news) {
      return { outs: { size: news.size } };
    },
  });
  await assert.rejects(runCrudScript(partial, script), /these outputs would be wiped: arn/);
});

test("a provider without update() must replace instead", async () => {
  await assert.rejects(runCrudScript(provider({ update: undefined }), script), /no update\(\)/);
  const replacing = provider({
    update: undefined,
    async diff(_id, olds, news) {
      return { changes: olds.size !== news.size, replaces: olds.size !== news.size ? ["size"] : [] };
    },
  });
  assert.equal((await runCrudScript(replacing, script)).final.replaced, true);
});

test("check() must accept the preview sentinel for unknown inputs", async () => {
  const strict = provider({
    async check(_olds, news) {
      const ok = typeof news.size === "number";
      return { inputs: news, failures: ok ? [] : [{ property: "size", reason: "must be a number" }] };
    },
  });
  await assert.rejects(runCrudScript(strict, script), /check\(\) failed during preview/);
  const tolerant = provider({
    async check(_olds, news) {
      const ok = typeof news.size === "number" || news.size === UNKNOWN;
      return { inputs: news, failures: ok ? [] : [{ property: "size", reason: "must be a number" }] };
    },
  });
  await runCrudScript(tolerant, script);
});

test("outputs must survive the wire: no undefined values", async () => {
  const sloppy = provider({
    async create(inputs) {
      return { id: "r1", outs: { size: inputs.size, arn: undefined } };
    },
  });
  await assert.rejects(runCrudScript(sloppy, script), /create outs\.arn is undefined/);
});

test("an unchanged program must diff as no change, and a refresh must not change outputs", async () => {
  await assert.rejects(runCrudScript(provider({ diff: async () => ({ changes: true }) }), script), /unchanged program/);
  const drifting = provider({
    async read(id, props) {
      return { id, props: { ...props, arn: "arn:other" } };
    },
  });
  await assert.rejects(runCrudScript(drifting, script), /refresh of an unchanged resource changed its outputs/);
});
