import { JitError } from "../../model/errors";
import { fnv1a } from "../nsg/names";

/**
 * Names of the rule collections pulumi-jit writes in a classic Azure Firewall, and the parser that
 * recognises them again without a ledger (the sweeper, restore after the ledger is lost).
 *
 *   jit-deny-<policy>-<hash>   network collection, Deny: the policy's baseline
 *   jit-dnat-<grant>-<hash>    NAT collection, Dnat: the grant's DNAT rules
 *   jit-allow-<grant>-<hash>   network collection, Allow: lets the grant's translated traffic past a deny
 *
 * Rules inside are named and described as our NSG rules are (`nsg/names.ts`): a deny rule per VM
 * and protocol as `denyRuleName`, a grant's DNAT and allow rules per VM and port as `allowRuleName`,
 * so that `parseJitRule` reads their owner (and a grant rule's expiry) from them. A collection name
 * is at most 9 + 55 + 9 = 73 characters (a policy name has at most 55, as policy plus VM name has
 * at most 56), within Azure's 80, and ends with a hex digit, as Azure wants it to end with a letter,
 * digit or `_`. The hash is over the kind and owner, so a user's collection that merely starts
 * with `jit-` is never taken for ours.
 */
export type JitCollectionInfo = { kind: "deny"; policy: string } | { kind: "dnat" | "allow"; grantId: string };

const MAX_COLLECTION_NAME = 80;

function collectionName(kind: JitCollectionInfo["kind"], owner: string): string {
  const name = `jit-${kind}-${owner}-${fnv1a(JSON.stringify([`${kind}-collection`, owner]))}`;
  if (name.length > MAX_COLLECTION_NAME || !/^[A-Za-z0-9._-]+$/.test(owner)) {
    throw new JitError("InvalidInput", `"${owner}" cannot name an Azure Firewall rule collection: it must be letters, digits, '.', '_' or '-', and short enough for ${MAX_COLLECTION_NAME} characters`);
  }
  return name;
}

export function denyCollectionName(policy: string): string {
  return collectionName("deny", policy);
}

export function dnatCollectionName(grantId: string): string {
  return collectionName("dnat", grantId);
}

export function allowCollectionName(grantId: string): string {
  return collectionName("allow", grantId);
}

const PATTERN = /^jit-(deny|dnat|allow)-(.+)-[0-9a-f]{8}$/;

/** What one of our collections is for, or `undefined` for anybody else's. */
export function parseJitCollection(name: string): JitCollectionInfo | undefined {
  const m = PATTERN.exec(name);
  if (!m) return undefined;
  const kind = m[1] as JitCollectionInfo["kind"];
  const owner = m[2];
  try {
    if (collectionName(kind, owner) !== name) return undefined;
  } catch {
    return undefined;
  }
  return kind === "deny" ? { kind, policy: owner } : { kind, grantId: owner };
}
