import { applyFilters, Filterable, paginate } from "./describe";
import { AwsError } from "./errors";
import type { Operation } from "./operations";
import type { QueryNode } from "./query";
import type { Ec2State, Tags } from "./state";
import type { XmlObject } from "./xml";

/** EC2 tags: `TagSpecification.N` at creation, CreateTags/DeleteTags afterwards (rules included), DescribeTags across them all. */

const maxTagsPerResource = 50;

export function tagsXml(tags: Tags): XmlObject[] {
  return [...tags].map(([key, value]) => ({ key, value }));
}

function checkTag(key: string, value: string): void {
  if (key.length === 0 || key.length > 128) throw new AwsError("InvalidParameterValue", `Tag key '${key}' must be between 1 and 128 characters long`);
  if (value.length > 256) throw new AwsError("InvalidParameterValue", `Tag value for key '${key}' must be at most 256 characters long`);
  if (key.toLowerCase().startsWith("aws:")) throw new AwsError("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
}

/** Adds `added` to `tags`, or throws leaving `tags` unchanged. */
export function mergeTags(tags: Tags, added: Tags): void {
  for (const [key, value] of added) checkTag(key, value);
  if (new Set([...tags.keys(), ...added.keys()]).size > maxTagsPerResource) {
    throw new AwsError("TagLimitExceeded", `The maximum number of Tags for a resource (${maxTagsPerResource}) has been reached.`);
  }
  for (const [key, value] of added) tags.set(key, value);
}

/**
 * The tags that `TagSpecification.N` gives a new resource of `resourceType`, where the call can
 * create resources of the `allowed` types.
 */
export function tagSpecifications(req: QueryNode, resourceType: string, allowed = [resourceType]): Tags {
  const tags: Tags = new Map();
  for (const spec of req.list("TagSpecification")) {
    const type = spec.required("ResourceType");
    if (!allowed.includes(type)) throw new AwsError("InvalidParameterValue", `'${type}' is not a valid taggable resource type for this operation.`);
    if (type !== resourceType) continue;
    for (const tag of spec.list("Tag")) tags.set(tag.required("Key"), tag.str("Value") ?? "");
  }
  mergeTags(new Map(), tags);
  return tags;
}

interface TagDescription {
  resourceId: string;
  resourceType: string;
  key: string;
  value: string;
}

/** Every tag of every served resource, each with its resource. */
function allTags(state: Ec2State): TagDescription[] {
  const of = (resourceType: string, items: Iterable<{ id: string; tags: Tags }>) =>
    [...items].flatMap(({ id, tags }) => [...tags].map(([key, value]) => ({ resourceId: id, resourceType, key, value })));
  const groups = [...state.groups.values()];
  return [
    ...of("vpc", state.vpcs.values()),
    ...of("subnet", state.subnets.values()),
    ...of("security-group", groups),
    ...of("security-group-rule", groups.flatMap((g) => g.rules)),
    ...of("network-interface", state.networkInterfaces.values()),
    ...of("instance", state.instances.values()),
    ...of("prefix-list", state.prefixLists.values()),
  ];
}

const tagFilters: Filterable<TagDescription> = {
  fields: { key: (t) => t.key, value: (t) => t.value, "resource-id": (t) => t.resourceId, "resource-type": (t) => t.resourceType },
  tags: () => new Map(),
};

export const tagOperations: Record<string, Operation> = {
  DescribeTags: {
    write: false,
    handle({ state }, req) {
      const page = paginate(applyFilters(allTags(state), req, tagFilters), req, "DescribeTags");
      return { tagSet: page.items.map((t) => ({ ...t })), nextToken: page.nextToken };
    },
  },

  CreateTags: {
    write: true,
    handle({ state }, req) {
      const added: Tags = new Map(req.list("Tag").map((t) => [t.required("Key"), t.str("Value") ?? ""]));
      const targets = req.strings("ResourceId").map((id) => state.tagsOf(id));
      if (targets.length === 0) throw new AwsError("MissingParameter", "The request must contain the parameter resourceIdSet");
      // Check every resource before tagging any, so a failure tags none.
      for (const tags of targets) mergeTags(new Map(tags), added);
      for (const tags of targets) mergeTags(tags, added);
      return { return: true };
    },
  },
  DeleteTags: {
    write: true,
    handle({ state }, req) {
      const targets = req.strings("ResourceId").map((id) => state.tagsOf(id));
      const removed = req.list("Tag").map((t) => ({ key: t.required("Key"), value: t.str("Value") }));
      for (const tags of targets) {
        if (removed.length === 0) tags.clear();
        // A tag goes when its key matches and, if a value was given (even empty), its value too.
        for (const { key, value } of removed) if (value === undefined || tags.get(key) === value) tags.delete(key);
      }
      return { return: true };
    },
  },
};
