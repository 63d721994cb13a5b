import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatPrefix, isIpAddress, isPublicAddress, parsePrefix, prefixContains, prefixesOverlap, toCidr } from "./address";
import { JitError } from "./errors";

test("prefixes parse and contain one another as networks do", () => {
  const p24 = parsePrefix("203.0.113.0/24");
  assert.ok(prefixContains(p24, parsePrefix("203.0.113.7")), "a /32 inside an allowed /24");
  assert.ok(prefixContains(p24, parsePrefix("203.0.113.128/25")));
  assert.ok(!prefixContains(p24, parsePrefix("203.0.112.0/23")), "a wider block is not inside");
  assert.ok(!prefixContains(p24, parsePrefix("2001:db8::1")), "families never contain each other");
  assert.ok(prefixContains(parsePrefix("*"), parsePrefix("2001:db8::/32")));
  assert.ok(!prefixContains(p24, parsePrefix("*")), "only * contains *");
  assert.ok(prefixContains(parsePrefix("2001:db8::/32"), parsePrefix("2001:db8:1::/48")));
  assert.equal(formatPrefix(parsePrefix("203.0.113.7")), "203.0.113.7");
  assert.equal(toCidr(parsePrefix("203.0.113.7")), "203.0.113.7/32");
  assert.equal(toCidr(parsePrefix("2001:db8::/32")), "2001:db8::/32");
  assert.ok(prefixesOverlap(parsePrefix("10.0.0.0/8"), parsePrefix("10.1.2.3")));
  assert.ok(!prefixesOverlap(parsePrefix("10.0.0.0/8"), parsePrefix("11.0.0.0/8")));
});

test("bad prefixes are refused with the field and the reason", () => {
  assert.throws(
    () => parsePrefix("50.206.209.68/27", "virtualMachines[0].ports[0].allowedSourceAddressPrefix"),
    (e: unknown) =>
      e instanceof JitError &&
      e.code === "InvalidInput" &&
      e.field === "virtualMachines[0].ports[0].allowedSourceAddressPrefix" &&
      /host bits set; the network is 50\.206\.209\.64\/27/.test(e.message),
  );
  for (const bad of ["any", "10.0.0.300", "10.0.0.0/33", "Internet", "", "10.1", "1", "0x0a000001", "010.0.0.1", "010.0.0.0/8", "fe80::1%eth0"]) {
    assert.throws(() => parsePrefix(bad), /is not an IP address, a CIDR block or "\*"/, bad);
  }
  assert.throws(() => toCidr(parsePrefix("*")), /no single CIDR form/);
});

test("public address detection", () => {
  assert.ok(isPublicAddress("8.8.8.8"));
  assert.ok(isPublicAddress("203.0.113.7"), "documentation ranges stand in for public addresses");
  for (const a of ["10.1.2.3", "192.168.0.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "::1", "fe80::1", "nonsense"]) assert.ok(!isPublicAddress(a), a);
});

test("property: every host inside a CIDR is contained by it, and containment is transitive", () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 32 }), (ip, a, b) => {
      const [outerBits, innerBits] = a <= b ? [a, b] : [b, a];
      const host = parsePrefix(ip);
      const net = (bits: number) => {
        const octets = ip.split(".").map(Number);
        const n = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
        const masked = bits === 0 ? 0 : (n & (0xffffffff << (32 - bits))) >>> 0;
        return parsePrefix(`${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join(".")}/${bits}`);
      };
      const outer = net(outerBits);
      const inner = net(innerBits);
      return prefixContains(outer, host) && prefixContains(inner, host) && prefixContains(outer, inner);
    }),
    { numRuns: 1000 },
  );
});

test("only the address spellings clouds accept are addresses", () => {
  for (const a of ["203.0.113.7", "0.0.0.0", "2001:db8::1", "::ffff:203.0.113.7"]) assert.ok(isIpAddress(a), a);
  for (const a of ["10.1", "1", "0x0a000001", "010.0.0.1", "fe80::1%eth0", "203.0.113.0/24", "*", ""]) assert.ok(!isIpAddress(a), a);
});
