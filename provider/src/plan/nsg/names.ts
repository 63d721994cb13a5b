import { parsePrefix } from "../../model/address";
import { JitError } from "../../model/errors";
import type { Protocol } from "../../model/protocol";
import type { NsgRule } from "./types";
import { memoized } from "../memo";
import { protocolFromToken, protocolToken } from "../protocols";

/**
 * Names and descriptions of the NSG rules pulumi-jit writes, and the parser that recognises them
 * again without a ledger (the sweeper, scans, restore after the ledger is lost).
 *
 *   deny   name  jit-deny-<policy>-<group>-<tcp|udp|all>[6]-<hash>
 *          desc  jit-deny p=<policy> g=<group>
 *          (shared by the policy's VMs behind one NSG with the same ports and placement; see
 *          `denyGroupKey`. Earlier versions wrote one per VM, `jit-deny-<policy>-<vm>-…` with
 *          `v=<vm>`: still recognised, so that applying the policy again replaces them, and still
 *          what Azure Firewall deny collections hold.)
 *   allow  name  jit-allow-<grant>-<port>-<tcp|udp|all>[6]-<hash>
 *          desc  jit-allow g=<grant> p=<policy> v=<vm> exp=<UTC expiry, whole seconds>
 *
 * The hash (FNV-1a, 8 hex digits) is taken over the whole identity, so two identities never share a
 * name even when the readable part had to be cleaned or shortened to Azure's 80 characters. A rule
 * is ours only when its description parses and, together with the protocol (and port) in its name,
 * yields exactly its name again: a user rule that merely starts with `jit-` is never mistaken for
 * one. Descriptions stay within Azure's 140 characters for any policy plus VM name of at most 56
 * characters and a grant id of up to 41. Azure takes one address family per rule, so a dual-stack
 * VM has a rule for its IPv6 addresses beside the one for its IPv4 addresses: its protocol token
 * ends in `6` (IPv4 names stay as they always were).
 */

/** IPv4 or IPv6: the address family of a rule's addresses. */
export type Family = 4 | 6;

export const MAX_RULE_NAME = 80;
export const MAX_DESCRIPTION = 140;

export type JitRuleInfo =
  | { kind: "deny"; policy: string; vm: string; protocol: Protocol; family?: 6 }
  | { kind: "deny"; policy: string; group: string; protocol: Protocol; family?: 6 }
  | { kind: "allow"; policy: string; vm: string; grantId: string; port: number; protocol: Protocol; expiresAt: Date; family?: 6 };

/** FNV-1a over the text, as 8 hex digits: the hash that keeps our names unique when shortened. */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** `<prefix><readable>-<suffix>-<hash>`, the readable part cleaned to Azure's name alphabet and cut to fit. */
function ruleName(prefix: string, readable: string, suffix: string, identity: unknown[]): string {
  const tail = `-${suffix}-${fnv1a(JSON.stringify(identity))}`;
  const room = MAX_RULE_NAME - prefix.length - tail.length;
  return prefix + readable.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, room) + tail;
}

/** Addresses by family, IPv4 first; families without addresses left out. */
export function byFamily(addresses: readonly string[]): Array<[Family, string[]]> {
  const of = (family: Family) => addresses.filter((a) => {
    const p = parsePrefix(a);
    return p.kind === "cidr" && p.family === family;
  });
  return ([4, 6] as const).map((f): [Family, string[]] => [f, of(f)]).filter(([, list]) => list.length > 0);
}

/** The protocol token, and the identity hashed, with the family only for IPv6. */
const familyToken = (protocol: Protocol, family: Family) => `${protocolToken(protocol)}${family === 6 ? "6" : ""}`;
const familyIdentity = (family: Family) => (family === 6 ? [6] : []);

export function denyRuleName(policy: string, vm: string, protocol: Protocol, family: Family = 4): string {
  return ruleName("jit-deny-", `${policy}-${vm}`, familyToken(protocol, family), ["deny", policy, vm, protocol, ...familyIdentity(family)]);
}

const MAX_LISTED_PORTS = 30;

/**
 * The group of a shared deny rule: its ports and the lowest number it may take (its placement, see
 * deny-baseline.ts), e.g. `22.3389-1000`. A long port list is hashed, so that the description
 * stays within Azure's 140 characters.
 */
export function denyGroupKey(ports: readonly number[], from: number): string {
  const listed = [...new Set(ports)].sort((a, b) => a - b).join(".");
  return `${listed.length <= MAX_LISTED_PORTS ? listed : `h${fnv1a(listed)}`}-${from}`;
}

export function sharedDenyRuleName(policy: string, group: string, protocol: Protocol, family: Family = 4): string {
  return ruleName("jit-deny-", `${policy}-${group}`, familyToken(protocol, family), ["shared-deny", policy, group, protocol, ...familyIdentity(family)]);
}

export function allowRuleName(grantId: string, vm: string, port: number, protocol: Protocol, family: Family = 4): string {
  return ruleName("jit-allow-", grantId, `${port}-${familyToken(protocol, family)}`, ["allow", grantId, vm, port, protocol, ...familyIdentity(family)]);
}

function stamp(kind: string, fields: Array<[string, string]>): string {
  for (const [key, value] of fields) {
    if (!/^\S+$/.test(value)) throw new JitError("InvalidInput", `"${value}" cannot be stamped on a rule: it is empty or has spaces`, { field: key });
  }
  const text = [`jit-${kind}`, ...fields.map(([k, v]) => `${k}=${v}`)].join(" ");
  if (text.length > MAX_DESCRIPTION) {
    throw new JitError("InvalidInput", `the rule description "${text}" is ${text.length} characters; Azure allows ${MAX_DESCRIPTION}`);
  }
  return text;
}

/** Expiry to the whole second, rounded up so that nothing reading it ends a grant early. */
export function stampTime(at: Date): string {
  return new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export function denyRuleDescription(policy: string, vm: string): string {
  return stamp("deny", [["p", policy], ["v", vm]]);
}

export function sharedDenyRuleDescription(policy: string, group: string): string {
  return stamp("deny", [["p", policy], ["g", group]]);
}

export function allowRuleDescription(grantId: string, policy: string, vm: string, expiresAt: Date): string {
  return stamp("allow", [["g", grantId], ["p", policy], ["v", vm], ["exp", stampTime(expiresAt)]]);
}

function parseStamp(description: string): { kind: string; fields: Map<string, string> } | undefined {
  const [head, ...rest] = description.split(" ");
  const kind = /^jit-(deny|allow)$/.exec(head)?.[1];
  if (!kind) return undefined;
  const fields = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq <= 0 || fields.has(part.slice(0, eq))) return undefined;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { kind, fields };
}

/** What one of our rules says about itself, or `undefined` for anybody else's rule. */
export function parseJitRule(rule: Pick<NsgRule, "name" | "description">): JitRuleInfo | undefined {
  if (rule.description === undefined) return undefined;
  const info = parseNamed(`${rule.name.length}:${rule.name}${rule.description}`);
  return info === null ? undefined : info.kind === "allow" ? { ...info, expiresAt: new Date(info.expiresAt) } : { ...info };
}

// Every planner asks this of every rule in the NSG, often several times: the answer depends on the
// two strings only, so it is remembered (with the expiry as a number, handing out fresh objects).
type Parsed = Exclude<JitRuleInfo, { kind: "allow" }> | (Omit<JitRuleInfo & { kind: "allow" }, "expiresAt"> & { expiresAt: number });

const parseNamed = memoized((key: string): Parsed | null => {
  const colon = key.indexOf(":");
  const end = colon + 1 + Number(key.slice(0, colon));
  const [name, description] = [key.slice(colon + 1, end), key.slice(end)];
  const parsed = parseStamp(description);
  if (!parsed) return null;
  const { kind, fields } = parsed;
  const policy = fields.get("p");
  if (policy === undefined) return null;
  if (kind === "deny") {
    const token = /-([a-z]+)(6?)-[0-9a-f]{8}$/.exec(name);
    const protocol = protocolFromToken(token?.[1] ?? "");
    const family: Family = token?.[2] === "6" ? 6 : 4;
    const [vm, group] = [fields.get("v"), fields.get("g")];
    if (fields.size !== 2 || protocol === undefined) return null;
    const familyField = family === 6 ? { family } : {};
    if (vm !== undefined && denyRuleName(policy, vm, protocol, family) === name) return { kind, policy, vm, protocol, ...familyField };
    if (group !== undefined && sharedDenyRuleName(policy, group, protocol, family) === name) return { kind, policy, group, protocol, ...familyField };
    return null;
  }
  const vm = fields.get("v");
  if (vm === undefined) return null;
  const grantId = fields.get("g");
  const expiry = fields.get("exp");
  const tail = /-(\d{1,5})-([a-z]+)(6?)-[0-9a-f]{8}$/.exec(name);
  const protocol = protocolFromToken(tail?.[2] ?? "");
  const family: Family = tail?.[3] === "6" ? 6 : 4;
  if (fields.size !== 4 || grantId === undefined || expiry === undefined || !tail || protocol === undefined) return null;
  const port = Number(tail[1]);
  const expiresAt = Date.parse(expiry);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(expiry) || Number.isNaN(expiresAt) || allowRuleName(grantId, vm, port, protocol, family) !== name) return null;
  return { kind: "allow", policy, vm, grantId, port, protocol, expiresAt, ...(family === 6 ? { family } : {}) };
});
