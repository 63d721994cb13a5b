import * as ipaddr from "ipaddr.js";
import { JitError } from "./errors";

/**
 * Source and destination prefixes: IPv4 and IPv6 addresses and CIDR blocks, and `*` (any). A bare
 * address is a host prefix (/32 or /128). A CIDR with host bits set is an error, as it is in Azure
 * and EC2, because it almost always means the writer meant a different network.
 */
export type Prefix =
  | { kind: "any" }
  | { kind: "cidr"; family: 4 | 6; address: ipaddr.IPv4 | ipaddr.IPv6; bits: number; text: string };

export const ANY: Prefix = { kind: "any" };

function familyOf(a: ipaddr.IPv4 | ipaddr.IPv6): 4 | 6 {
  return a.kind() === "ipv4" ? 4 : 6;
}

/**
 * Only the spellings that Azure and EC2 accept: dotted-quad IPv4 without leading zeros, and IPv6
 * without a zone. ipaddr.js alone also takes "10.1", "0x0a000001" and "010.0.0.1" (octal, so
 * 8.0.0.1), which would open a port to an address the user never wrote.
 */
export function isIpAddress(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s) || (ipaddr.IPv6.isValid(s) && !s.includes("%"));
}

/** Parses a prefix, or throws an `InvalidInput` error naming `field`. */
export function parsePrefix(text: string, field = "addressPrefix"): Prefix {
  const s = text.trim();
  const invalid = () => new JitError("InvalidInput", `"${text}" is not an IP address, a CIDR block or "*"`, { field });
  if (s === "*") return ANY;
  if (s.includes("/")) {
    if (!isIpAddress(s.slice(0, s.indexOf("/")))) throw invalid();
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(s);
    } catch {
      throw invalid();
    }
    const [address, bits] = parsed;
    const network = networkAddress(address, bits);
    if (network.toString() !== address.toString()) {
      throw new JitError(
        "InvalidInput",
        `"${text}" has host bits set; the network is ${network.toString()}/${bits}`,
        { field },
      );
    }
    return { kind: "cidr", family: familyOf(address), address, bits, text: `${address.toString()}/${bits}` };
  }
  if (!isIpAddress(s)) throw invalid();
  const address = ipaddr.parse(s);
  const bits = familyOf(address) === 4 ? 32 : 128;
  return { kind: "cidr", family: familyOf(address), address, bits, text: address.toString() };
}

/** True when `text` parses as a prefix. */
export function isPrefix(text: string): boolean {
  try {
    parsePrefix(text);
    return true;
  } catch {
    return false;
  }
}

function networkAddress(address: ipaddr.IPv4 | ipaddr.IPv6, bits: number): ipaddr.IPv4 | ipaddr.IPv6 {
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return ipaddr.fromByteArray(bytes);
}

/** Does `outer` contain every address of `inner`? (`*` contains everything; only `*` contains `*`.) */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.kind === "any") return true;
  if (inner.kind === "any") return false;
  if (outer.family !== inner.family || inner.bits < outer.bits) return false;
  return (inner.address as ipaddr.IPv4).match(outer.address as ipaddr.IPv4, outer.bits);
}

/** Do the two prefixes share at least one address? */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return prefixContains(a, b) || prefixContains(b, a);
}

/** Canonical text: `*`, `10.0.0.0/8`, `203.0.113.7` (host prefixes without the length). */
export function formatPrefix(p: Prefix): string {
  if (p.kind === "any") return "*";
  const full = p.family === 4 ? 32 : 128;
  return p.bits === full ? p.address.toString() : `${p.address.toString()}/${p.bits}`;
}

/** The same prefix in CIDR form, as EC2 requires (`203.0.113.7/32`). */
export function toCidr(p: Prefix): string {
  if (p.kind === "any") throw new JitError("InvalidInput", `"*" has no single CIDR form; use 0.0.0.0/0 or ::/0`);
  return `${p.address.toString()}/${p.bits}`;
}

/**
 * Ranges that never reach a VM from the Internet. Documentation ranges (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are deliberately not in the list: they stand in
 * for public addresses in examples and tests, and must behave like them.
 */
const NON_PUBLIC_RANGES = new Set([
  "unspecified", "broadcast", "multicast", "linkLocal", "loopback", "carrierGradeNat", "private", "uniqueLocal", "ipv4Mapped", "rfc6145", "rfc6052", "6to4", "teredo",
]);

/** Is this address one the public Internet can come from (not private, loopback, link-local, ...)? */
export function isPublicAddress(text: string): boolean {
  if (!ipaddr.isValid(text)) return false;
  return !NON_PUBLIC_RANGES.has(ipaddr.process(text).range());
}
