import { applyFilters, Filterable, paginate } from "./describe";
import type { Operation } from "./operations";
import type { PrefixList } from "./state";
import { tagsXml } from "./tags";

/**
 * Managed prefix lists, as far as security groups need them: DescribeManagedPrefixLists tells a
 * caller each list's maximum entries (what a reference to it costs against the rules-per-group
 * quota) and its owner (`AWS` for AWS-managed lists, which count as their published weight);
 * GetManagedPrefixListEntries lists the CIDRs a reference to it admits.
 */

function listFilters(accountId: string): Filterable<PrefixList> {
  return {
    fields: {
      "prefix-list-id": (l) => l.id,
      "prefix-list-name": (l) => l.name,
      "owner-id": (l) => (l.awsManaged ? "AWS" : accountId),
    },
    tags: (l) => l.tags,
  };
}

export const prefixListOperations: Record<string, Operation> = {
  DescribeManagedPrefixLists: {
    write: false,
    handle({ state }, req) {
      const ids = [...new Set(req.strings("PrefixListId"))];
      const lists = ids.length > 0 ? ids.map((id) => state.prefixList(id)) : [...state.prefixLists.values()];
      const page = paginate(applyFilters(lists, req, listFilters(state.accountId)), req, "DescribeManagedPrefixLists");
      return {
        prefixListSet: page.items.map((l) => ({
          prefixListId: l.id,
          addressFamily: l.addressFamily,
          state: "create-complete",
          prefixListArn: `arn:aws:ec2:${state.region}:${l.awsManaged ? "aws" : state.accountId}:prefix-list/${l.id}`,
          prefixListName: l.name,
          maxEntries: l.maxEntries,
          version: 1,
          tagSet: tagsXml(l.tags),
          ownerId: l.awsManaged ? "AWS" : state.accountId,
        })),
        nextToken: page.nextToken,
      };
    },
  },

  GetManagedPrefixListEntries: {
    write: false,
    handle({ state }, req) {
      const list = state.prefixList(req.required("PrefixListId"));
      const page = paginate(list.entries, req, "GetManagedPrefixListEntries");
      return { entrySet: page.items.map((cidr) => ({ cidr })), nextToken: page.nextToken };
    },
  },
};
