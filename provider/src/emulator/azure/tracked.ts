import { Json, fail, isObject } from "./arm";
import type { Ctx } from "./context";
import type { Applied } from "./lro";
import type { Resource } from "./store";

/**
 * What all tracked (top-level, located) resources share: how a PUT's location, tags and other
 * top-level fields are read, how the resource is rendered around its properties, and how a
 * long-running write of it settles.
 */
const normalizeLocation = (location: string): string => location.toLowerCase().replace(/\s+/g, "");

/** The operation's location for its URLs, before the body has been validated. */
export function locationOf(ctx: Ctx, body: Json, existing: Resource | undefined): string {
  return normalizeLocation(typeof body.location === "string" ? body.location : (existing?.location ?? ctx.options.location));
}

export function parseTags(tags: unknown): Record<string, string> | undefined {
  if (!isObject(tags)) return undefined;
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
}

const TOP_LEVEL_READ_ONLY_OR_OWN = new Set(["id", "name", "type", "etag", "location", "tags", "properties", "systemData"]);

/** Location (required on every PUT, and fixed once created), tags, and other top-level writable fields. */
export function trackedFields(body: Json, existing: Resource | undefined, name: string, resourceGroup: string): Pick<Resource, "location" | "tags" | "top"> {
  if (typeof body.location !== "string" || body.location.trim() === "") {
    fail(400, "LocationRequired", "The location property is required for this definition.");
  }
  const location = normalizeLocation(body.location);
  if (existing && existing.location !== location) {
    fail(
      400,
      "InvalidResourceLocation",
      `The resource '${name}' already exists in location '${existing.location}' in resource group '${resourceGroup}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
    );
  }
  const top = Object.fromEntries(Object.entries(body).filter(([k]) => !TOP_LEVEL_READ_ONLY_OR_OWN.has(k)));
  return { location, tags: parseTags(body.tags), top };
}

export function omit(obj: Json, keys: readonly string[]): Json {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)));
}

export function renderTracked(r: Resource, properties: Json): Json {
  return {
    name: r.name,
    id: r.id,
    etag: r.etag,
    type: r.type,
    location: r.location,
    ...(r.tags ? { tags: r.tags } : {}),
    ...r.top,
    properties,
  };
}

/** A child resource (rule, subnet, IP configuration) shares its parent's ETag and provisioning state. */
export function renderChild(parent: Resource, id: string, type: string | undefined, name: string, properties: Json): Json {
  return {
    name,
    id,
    etag: parent.etag,
    ...(type ? { type } : {}),
    properties: { provisioningState: parent.provisioningState, ...properties },
  };
}

/**
 * How a long-running write of `id` (or of one of its children) ends: its provisioning state
 * becomes terminal, and the resource gets a new ETag, as NRP gives it one when the operation
 * completes (a rule PUT answered `21e4b4b6…` while Updating and read back `c0406165…` once
 * Succeeded in the SDK's recorded NSG test; subnets do the same): an ETag read while the
 * operation was in flight no longer matches.
 */
export function settleTo(ctx: Ctx, id: string): (succeeded: boolean) => void {
  return (succeeded) => {
    const r = ctx.store.get(id);
    if (!r) return;
    r.provisioningState = succeeded ? "Succeeded" : "Failed";
    ctx.store.touch(id);
  };
}

/** A long-running DELETE: the resource shows `Deleting` until the operation ends, then is gone. */
export function deleting(ctx: Ctx, r: Resource): Applied {
  r.provisioningState = "Deleting";
  return {
    status: 202,
    settle: (succeeded) => {
      if (succeeded) ctx.store.remove(r.id);
      else r.provisioningState = "Failed";
    },
  };
}
