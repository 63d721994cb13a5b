import { Json, empty, fail, isObject, json } from "./arm";
import type { Ctx } from "./context";
import type { Applied } from "./lro";
import type { ArmRoute } from "./router";
import type { Resource, ResourceType } from "./store";

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
export function deleting(ctx: Ctx, r: Resource, status = 202): Applied {
  r.provisioningState = "Deleting";
  return {
    status,
    settle: (succeeded) => {
      if (succeeded) ctx.store.remove(r.id);
      else r.provisioningState = "Failed";
    },
  };
}

/** How a route finds its tracked resource and answers it. */
export interface TrackedRoute<P extends Json> {
  /** The resource's URL pattern: its name is the last segment's parameter. */
  path: string;
  type: ResourceType;
  /** The resource as answered, in the shape of the request's api-version where that matters. */
  render(r: Resource<P>, apiVersion?: string): Json;
}

const nameParam = (path: string): string => path.slice(path.lastIndexOf("{") + 1, -1);

/**
 * `PATCH` of tags. NRP answers it at once for most network types (200 with the resource, no
 * operation to poll); for others (Azure Firewall) it is long-running, given as `longRunning`.
 * The tags given replace the old ones (an absent `tags` clears them).
 */
export function updateTagsRoute<P extends Json>(ctx: Ctx, route: TrackedRoute<P>, operation: string, longRunning?: { what: string; provider: string }): ArmRoute {
  return {
    method: "PATCH",
    path: route.path,
    operation,
    handle: (req) => {
      const r = ctx.store.require<P>(route.type, req.params.resourceGroupName, req.params[nameParam(route.path)]);
      const body = req.body();
      const retag = (state: Resource["provisioningState"]) => ctx.store.write<P>({ ...r, tags: parseTags(body.tags) }, state).resource;
      if (!longRunning) return ctx.lro.writeNow(req, [r.id], r.etag, () => json(200, route.render(retag(r.provisioningState), req.apiVersion)));
      return ctx.lro.write(req, {
        kind: "Put",
        ...longRunning,
        location: r.location,
        locks: [r.id],
        etag: r.etag,
        apply: () => ({ status: 200, body: route.render(retag("Updating"), req.apiVersion), settle: settleTo(ctx, r.id) }),
      });
    },
  };
}

/**
 * A long-running `DELETE`: 202 with both polling URLs, `Deleting` until it ends; 204 (and no
 * operation) for a resource that is not there. `check` refuses a resource still in use before
 * anything changes.
 */
export function deleteRoute<P extends Json>(
  ctx: Ctx,
  route: Omit<TrackedRoute<P>, "render">,
  operation: string,
  spec: {
    what: string;
    provider: string;
    /** What the DELETE answers while its operation runs: 202, but 200 for a NIC (as recorded). */
    status?: number;
    check?(r: Resource<P>): void;
  },
): ArmRoute {
  return {
    method: "DELETE",
    path: route.path,
    operation,
    handle: (req) => {
      ctx.store.requireResourceGroup(req.params.resourceGroupName);
      const r = ctx.store.find<P>(route.type, req.params.resourceGroupName, req.params[nameParam(route.path)]);
      if (!r) return ctx.lro.writeNow(req, [], undefined, () => empty(204));
      return ctx.lro.write(req, {
        kind: "Delete",
        what: spec.what,
        provider: spec.provider,
        location: r.location,
        locks: [r.id],
        etag: r.etag,
        apply: () => {
          spec.check?.(r);
          return deleting(ctx, r, spec.status);
        },
      });
    },
  };
}
