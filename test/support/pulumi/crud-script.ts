// Drives a dynamic provider through the calls the engine makes over a resource's life (preview, create,
// a no-op deployment, refresh, preview of a change, update or replace, destroy) and checks the rules the
// engine imposes on the answers. Works on any provider object: the one a test constructs, or the copy
// `reloadProvider` rebuilt from the serialised text.
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import type { DynamicProvider } from "./serialization";
import { PropertyMap, UNKNOWN, throughWire } from "./wire";

export interface CrudScript {
  /** The inputs of the first deployment, as a resource class would pass them. */
  create: PropertyMap;
  /** The inputs of the second deployment; they must differ from `create`. */
  update: PropertyMap;
  /** Top-level inputs that are unknown during the previews (by default every one of them). */
  unknownDuringPreview?: string[];
}

export interface CrudTrace {
  id: string;
  created: PropertyMap;
  refreshed: PropertyMap;
  updateDiff: pulumi.dynamic.DiffResult;
  /** The resource after the second deployment: updated in place, or replaced by a new one. */
  final: { id: string; outputs: PropertyMap; replaced: boolean };
}

export async function runCrudScript(provider: DynamicProvider, script: CrudScript): Promise<CrudTrace> {
  const unknownKeys = (inputs: PropertyMap) => script.unknownDuringPreview ?? Object.keys(inputs);

  // First deployment: preview, then the real run.
  await previewCheck(provider, {}, script.create, unknownKeys(script.create));
  const checked = await check(provider, {}, script.create, "create");
  const created = await create(provider, checked);

  // Running the unchanged program again must be a no-op.
  const recheck = await check(provider, checked, script.create, "no-op");
  if (provider.diff) {
    const noop = await provider.diff(created.id, created.outputs, recheck);
    assert.notEqual(noop.changes, true, "diff reported changes for an unchanged program");
    assert.deepEqual(noop.replaces ?? [], [], "diff asked to replace for an unchanged program");
  }

  // Refresh: the stored outputs come back unchanged when nothing drifted.
  const refreshed = await refresh(provider, created.id, created.outputs);

  // Second deployment: preview (where diff also sees unknowns), then the real run.
  const previewed = await previewCheck(provider, checked, script.update, unknownKeys(script.update));
  if (provider.diff) await provider.diff(created.id, created.outputs, previewed);
  const checkedUpdate = await check(provider, checked, script.update, "update");
  const updateDiff: pulumi.dynamic.DiffResult = provider.diff
    ? await provider.diff(created.id, created.outputs, checkedUpdate)
    : {};
  assert.notEqual(updateDiff.changes, false, "diff reported no changes although the inputs changed");

  let final: CrudTrace["final"];
  if (updateDiff.replaces && updateDiff.replaces.length > 0) {
    // The engine creates the replacement first unless told to delete first.
    if (updateDiff.deleteBeforeReplace) await provider.delete?.(created.id, created.outputs);
    const replacement = await create(provider, checkedUpdate);
    if (!updateDiff.deleteBeforeReplace) await provider.delete?.(created.id, created.outputs);
    final = { ...replacement, replaced: true };
  } else {
    assert.ok(
      provider.update,
      "the provider has no update(): the engine would keep only __provider and wipe every other output; " +
        "implement update() or list every changing property in diff's replaces",
    );
    const result = await provider.update(created.id, created.outputs, checkedUpdate);
    const outputs = throughWire(result.outs ?? {}, "update outs");
    const missing = Object.keys(created.outputs).filter((key) => !(key in outputs));
    assert.deepEqual(
      missing,
      [],
      "update() must return the full outputs: the engine stores exactly what it returns (plus __provider), " +
        `so these outputs would be wiped: ${missing.join(", ")}`,
    );
    final = { id: created.id, outputs, replaced: false };
  }

  await provider.delete?.(final.id, final.outputs);
  return { id: created.id, created: created.outputs, refreshed, updateDiff, final };
}

function withUnknowns(inputs: PropertyMap, keys: string[]): PropertyMap {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, keys.includes(k) ? UNKNOWN : v]));
}

async function previewCheck(provider: DynamicProvider, olds: PropertyMap, news: PropertyMap, unknown: string[]) {
  return check(provider, olds, withUnknowns(news, unknown), "preview (unknown inputs arrive as the sentinel string)");
}

async function check(provider: DynamicProvider, olds: PropertyMap, news: PropertyMap, step: string) {
  const wireNews = throughWire(news, `${step} inputs`);
  if (!provider.check) return wireNews;
  const result = await provider.check(olds, wireNews);
  assert.deepEqual(result.failures ?? [], [], `check() failed during ${step}`);
  return throughWire(result.inputs ?? wireNews, `${step} checked inputs`);
}

async function create(provider: DynamicProvider, inputs: PropertyMap) {
  const result = await provider.create(inputs);
  assert.ok(typeof result.id === "string" && result.id !== "", "create() must return a non-empty id");
  return { id: result.id, outputs: throughWire(result.outs ?? {}, "create outs") };
}

async function refresh(provider: DynamicProvider, id: string, outputs: PropertyMap) {
  // Without read() the host echoes the stored outputs.
  if (!provider.read) return outputs;
  const result = await provider.read(id, outputs);
  assert.equal(result.id, id, "read() of an existing resource must return its id (no id means it is gone)");
  const refreshed = throughWire(result.props ?? {}, "read props");
  assert.deepEqual(refreshed, outputs, "refresh of an unchanged resource changed its outputs");
  return refreshed;
}
