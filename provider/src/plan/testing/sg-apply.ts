import type { SgGroupChange } from "../sg/baseline";
import { entriesOfGroup, entriesOfPermission, entryKey, permissionOfEntry, type SgEntry } from "../sg/permissions";
import type { IpPermission, SecurityGroup } from "../sg/types";

/** Authorizes and revokes as EC2 does in a non-default VPC: duplicates and unknown rules are errors. */
export function applySgChange(group: SecurityGroup, change: SgGroupChange): SecurityGroup {
  const entries = new Map(entriesOfGroup(group).map((e) => [entryKey(e), e]));
  const authorize = (permissions: IpPermission[]) => {
    for (const e of permissions.flatMap(entriesOfPermission)) {
      if (entries.has(entryKey(e))) throw new Error(`InvalidPermission.Duplicate ${entryKey(e)}`);
      entries.set(entryKey(e), e);
    }
  };
  const revoke = () => {
    for (const e of change.revoke.flatMap(entriesOfPermission)) {
      if (!entries.delete(entryKey(e))) throw new Error(`InvalidPermission.NotFound ${entryKey(e)}`);
    }
  };
  if (change.order === "revoke-first") revoke();
  for (const batch of change.authorize) authorize(batch.permissions);
  if (change.order === "authorize-first") revoke();
  return withEntries(group, [...entries.values()]);
}

export function withEntries(group: SecurityGroup, entries: readonly SgEntry[]): SecurityGroup {
  return { ...group, IpPermissions: entries.map(permissionOfEntry) };
}

/** A group's ingress as a sorted list of keys with descriptions: equal lists, equal groups. */
export function groupFingerprint(group: SecurityGroup): string[] {
  return entriesOfGroup(group)
    .map((e) => `${entryKey(e)}#${e.description ?? ""}`)
    .sort();
}
