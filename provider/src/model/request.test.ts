import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePrefix, prefixContains } from "./address";
import { JitError } from "./errors";
import { parsePolicy } from "./policy";
import { AccessRequestInput, checkRequest } from "./request";
import { assertJitError } from "./testing/assert";
import { AWS_INSTANCE, AZURE_VM, NOW, awsPolicy, azurePolicy, azureVmId } from "./testing/fixtures";

const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const MIN = 60_000;

function ssh(port: Record<string, unknown>, vm = AZURE_VM): AccessRequestInput {
  return { virtualMachines: [{ id: vm, ports: [{ number: 22, ...port } as never] }], requester: "ana@contoso.com" };
}

test("a request inside the policy comes back normalised: absolute end times, canonical prefixes", () => {
  const checked = checkRequest(
    azurePolicy(),
    {
      virtualMachines: [
        {
          id: AZURE_VM.replace("resourceGroups", "resourcegroups").replace("web1", "WEB1"),
          ports: [
            { number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" },
            { number: 3389, endTimeUtc: "2030-01-01T12:30:00.1234567Z", protocol: "UDP" },
          ],
        },
      ],
      justification: "INC-1234",
      requester: "ana@contoso.com",
    },
    { now: NOW, sourceAddress: "198.51.100.23" },
  );
  assert.deepEqual(checked, {
    policy: "web",
    cloud: "azure",
    requester: "ana@contoso.com",
    justification: "INC-1234",
    startTimeUtc: at(0),
    endTimeUtc: at(60 * MIN),
    virtualMachines: [
      {
        id: AZURE_VM,
        ports: [
          { number: 22, protocol: "TCP", sourceAddressPrefix: "203.0.113.7", endTimeUtc: at(60 * MIN) },
          { number: 3389, protocol: "UDP", sourceAddressPrefix: "198.51.100.23", endTimeUtc: "2030-01-01T12:30:00.123Z" },
        ],
      },
    ],
  });
});

test("sources: a block inside an allowed block, IPv6, * where * is allowed, the detected address", () => {
  const source = (port: Record<string, unknown>, sourceAddress?: string, number = 22) =>
    checkRequest(azurePolicy(), { virtualMachines: [{ id: AZURE_VM, ports: [{ number, duration: "PT5M", ...port } as never] }] }, { now: NOW, sourceAddress })
      .virtualMachines[0].ports[0].sourceAddressPrefix;
  assert.equal(source({ allowedSourceAddressPrefix: "203.0.113.128/25" }), "203.0.113.128/25");
  assert.equal(source({ allowedSourceAddressPrefix: "203.0.113.0/24" }), "203.0.113.0/24");
  assert.equal(source({ allowedSourceAddressPrefix: "2001:DB8:0:0::1" }), "2001:db8::1");
  assert.equal(source({}, "203.0.113.99"), "203.0.113.99");
  assert.equal(source({ allowedSourceAddressPrefix: "*" }, undefined, 3389), "*");
  assert.equal(source({ allowedSourceAddressPrefix: "10.0.0.0/8" }, undefined, 3389), "10.0.0.0/8");
});

test("times: the full maximum, exactly five minutes, an end time with an offset", () => {
  const end = (port: Record<string, unknown>) => checkRequest(azurePolicy(), ssh({ allowedSourceAddressPrefix: "203.0.113.7", ...port }), { now: NOW }).endTimeUtc;
  assert.equal(end({ duration: "PT3H" }), at(180 * MIN));
  assert.equal(end({ duration: "PT5M" }), at(5 * MIN));
  assert.equal(end({ endTimeUtc: "2030-01-01T14:00:00+01:00" }), at(60 * MIN));
});

test("every refusal says exactly why, at the field that caused it", () => {
  type Case = [string, AccessRequestInput, { sourceAddress?: string } | undefined, string, RegExp];
  const cases: Case[] = [
    ["VM not in policy", ssh({ duration: "PT1H" }, azureVmId("db1")), undefined, "virtualMachines[0].id", /VM ".*\/virtualMachines\/db1" is not in policy "web"/],
    ["VM of another cloud", ssh({ duration: "PT1H" }, AWS_INSTANCE), undefined, "virtualMachines[0].id", /VM "i-0123456789abcdef0" is not in policy "web"/],
    ["port not in policy", { virtualMachines: [{ id: AZURE_VM, ports: [{ number: 80, duration: "PT1H" }] }] }, undefined, "virtualMachines[0].ports[0].number", /port 80 of VM "web1" is not in policy "web"; it allows ports 22, 3389/],
    ["protocol", ssh({ duration: "PT1H", protocol: "UDP", allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].protocol", /protocol UDP is not allowed on port 22 of VM "web1"; policy "web" allows TCP only/],
    ["protocol * on a TCP rule", ssh({ duration: "PT1H", protocol: "*", allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].protocol", /protocol \* is not allowed/],
    ["over the maximum", ssh({ duration: "PT3H1S", allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].duration", /access for PT3H1S is longer than the PT3H that policy "web" allows on port 22 of VM "web1"/],
    ["end time over the maximum", ssh({ endTimeUtc: at(181 * MIN), allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].endTimeUtc", /access for PT3H1M is longer than the PT3H/],
    ["under five minutes", ssh({ duration: "PT4M59S", allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].duration", /access for PT4M59S is shorter than the minimum of PT5M/],
    ["zero", ssh({ duration: "PT0S", allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].duration", /access for PT0S is shorter than the minimum/],
    ["end time too soon", ssh({ endTimeUtc: at(MIN), allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].endTimeUtc", /access for PT1M is shorter than the minimum of PT5M/],
    ["end time in the past", ssh({ endTimeUtc: "2018-07-12T09:53:03.3658798Z", allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].endTimeUtc", /2018-07-12T09:53:03\.3658798Z is not in the future \(it is now 2030-01-01T12:00:00\.000Z\)/],
    ["end time now", ssh({ endTimeUtc: at(0), allowedSourceAddressPrefix: "203.0.113.7" }), undefined, "virtualMachines[0].ports[0].endTimeUtc", /is not in the future/],
    ["source outside", ssh({ duration: "PT1H", allowedSourceAddressPrefix: "203.0.114.7" }), undefined, "virtualMachines[0].ports[0].allowedSourceAddressPrefix", /"203\.0\.114\.7" is not inside the source prefixes that policy "web" allows on port 22 of VM "web1": 203\.0\.113\.0\/24, 2001:db8::\/32/],
    ["wider block", ssh({ duration: "PT1H", allowedSourceAddressPrefix: "203.0.112.0/23" }), undefined, "virtualMachines[0].ports[0].allowedSourceAddressPrefix", /"203\.0\.112\.0\/23" is not inside the source prefixes/],
    ["* not allowed", ssh({ duration: "PT1H", allowedSourceAddressPrefix: "*" }), undefined, "virtualMachines[0].ports[0].allowedSourceAddressPrefix", /"\*" \(any source\) is not allowed on port 22 of VM "web1"; policy "web" allows 203\.0\.113\.0\/24, 2001:db8::\/32/],
    ["host bits", ssh({ duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7/24" }), undefined, "virtualMachines[0].ports[0].allowedSourceAddressPrefix", /"203\.0\.113\.7\/24" has host bits set; the network is 203\.0\.113\.0\/24/],
    ["not a prefix", ssh({ duration: "PT1H", allowedSourceAddressPrefix: "myhost" }), undefined, "virtualMachines[0].ports[0].allowedSourceAddressPrefix", /"myhost" is not an IP address, a CIDR block or "\*"/],
    ["detected outside", ssh({ duration: "PT1H" }), { sourceAddress: "198.51.100.23" }, "virtualMachines[0].ports[0].allowedSourceAddressPrefix", /your address 198\.51\.100\.23 is not inside the source prefixes/],
    ["no source at all", ssh({ duration: "PT1H" }), undefined, "virtualMachines[0].ports[0].allowedSourceAddressPrefix", /no source address prefix was given and the caller's own address is not known; name the source/],
  ];
  for (const [name, request, context, field, message] of cases) {
    const err = assertJitError(() => checkRequest(azurePolicy(), request, { now: NOW, ...context }), "RequestNotAllowed", field, message);
    assert.ok(err.message.startsWith(`${field}: `), name);
  }
});

test("malformed requests are InvalidInput, not refusals", () => {
  type Case = [AccessRequestInput, string, RegExp];
  const cases: Case[] = [
    [ssh({}), "virtualMachines[0].ports[0]", /give exactly one of endTimeUtc and duration/],
    [ssh({ duration: "PT1H", endTimeUtc: at(MIN * 10) }), "virtualMachines[0].ports[0]", /give exactly one of endTimeUtc and duration/],
    [ssh({ duration: "1h" }), "virtualMachines[0].ports[0].duration", /"1h" is not an ISO-8601 duration/],
    [ssh({ endTimeUtc: "tomorrow" }), "virtualMachines[0].ports[0].endTimeUtc", /must be an ISO-8601 date-time/],
    [{ virtualMachines: [] }, "virtualMachines", /must list at least one VM/],
    [{ virtualMachines: [{ id: AZURE_VM, ports: [{ number: 22, duration: "PT1H" }, { number: 22, duration: "PT2H" }] }] }, "virtualMachines[0].ports[1].number", /port 22 is already requested at ports\[0\]/],
    [{ virtualMachines: [{ id: AZURE_VM, ports: [{ number: 22, duration: "PT1H" }] }, { id: AZURE_VM.toLowerCase(), ports: [{ number: 3389, duration: "PT1H" }] }] }, "virtualMachines[1].id", /this VM is already requested at virtualMachines\[0\]/],
    [{ ...ssh({ duration: "PT1H" }), justification: "x".repeat(1001) }, "justification", /must be at most 1000 characters/],
    [{ ...ssh({ duration: "PT1H" }), justification: "line one\nline two" }, "justification", /must be one line without control characters/],
    [{ ...ssh({ duration: "PT1H" }), policy: "web" } as AccessRequestInput, "", /Unrecognized key: "policy"/],
  ];
  for (const [request, field, message] of cases) {
    assertJitError(() => checkRequest(azurePolicy(), request, { now: NOW }), "InvalidInput", field || undefined, message);
  }
});

test("secrets pasted into a justification never survive the check", () => {
  const checked = checkRequest(azurePolicy(), { ...ssh({ duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }), justification: "debug with AKIAABCDEFGHIJKLMNOP please" }, { now: NOW });
  assert.equal(checked.justification, "debug with [redacted] please");
});

test("AWS: instance ids and ARNs name the same VM", () => {
  const checked = checkRequest(
    awsPolicy(),
    { virtualMachines: [{ id: `arn:aws:ec2:eu-west-1:123456789012:instance/${AWS_INSTANCE}`, ports: [{ number: 22, duration: "PT30M" }] }] },
    { now: NOW, sourceAddress: "198.51.100.200" },
  );
  assert.equal(checked.cloud, "aws");
  assert.equal(checked.virtualMachines[0].id, AWS_INSTANCE);
  assert.equal(checked.virtualMachines[0].ports[0].sourceAddressPrefix, "198.51.100.200");
});

test("property: checkRequest never grants a source outside the allowed prefixes (and grants every one inside)", () => {
  const toText = (n: number, bits: number) => {
    const masked = bits === 0 ? 0 : (n & (0xffffffff << (32 - bits))) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join(".")}/${bits}`;
  };
  const toNumber = (text: string) => text.split("/")[0].split(".").reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
  const v4Prefix = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, bits]) => toText(toNumber(ip), bits));
  const allowedList = fc.array(fc.oneof(v4Prefix, fc.constant("*")), { minLength: 1, maxLength: 4 });
  // Sources that share the leading bits of an allowed block land on both sides of its edge.
  const near = (allowed: string[]) =>
    fc.tuple(fc.constantFrom(...allowed), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([base, shared, noise, bits]) => {
      if (base === "*") return "*";
      const keep = shared === 0 ? 0 : (0xffffffff << (32 - shared)) >>> 0;
      return toText(((toNumber(base) & keep) | (noise & ~keep)) >>> 0, bits);
    });
  const cases = allowedList.chain((allowed) => fc.tuple(fc.constant(allowed), fc.oneof(near(allowed), v4Prefix, fc.ipV4(), fc.constant("*"), fc.ipV6())));
  fc.assert(
    fc.property(cases, ([allowed, requested]) => {
      const policy = parsePolicy({ name: "p", virtualMachines: [{ id: AZURE_VM, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefixes: allowed }] }] });
      const inside = allowed.some((a) => prefixContains(parsePrefix(a), parsePrefix(requested)));
      let granted: string | undefined;
      try {
        granted = checkRequest(policy, ssh({ duration: "PT1H", allowedSourceAddressPrefix: requested }), { now: NOW }).virtualMachines[0].ports[0].sourceAddressPrefix;
      } catch (err) {
        assert.equal((err as { code?: string }).code, "RequestNotAllowed");
      }
      if (granted === undefined) return !inside;
      const grantedPrefix = parsePrefix(granted);
      return inside && allowed.some((a) => prefixContains(parsePrefix(a), grantedPrefix));
    }),
    { numRuns: 3000 },
  );
});

test("checkRequest bounds every text field before its pattern or parser runs (called from code as from the network)", () => {
  const huge = "P".repeat(1 << 20);
  const policy = parsePolicy({ name: "web", virtualMachines: [{ id: VM_FOR_BOUNDS, ports: [{ number: 22, protocol: "TCP" }] }] });
  const cases: [unknown, RegExp][] = [
    [{ virtualMachines: [{ id: huge, ports: [{ number: 22, duration: "PT1H" }] }] }, /^virtualMachines\[0\]\.id: invalid request: must be at most 1024 characters$/],
    [{ virtualMachines: [{ id: VM_FOR_BOUNDS, ports: [{ number: 22, duration: huge }] }] }, /^virtualMachines\[0\]\.ports\[0\]\.duration: invalid request: must be at most 64 characters$/],
    [{ virtualMachines: [{ id: VM_FOR_BOUNDS, ports: [{ number: 22, endTimeUtc: huge }] }] }, /must be at most 64 characters$/],
    [{ virtualMachines: [{ id: VM_FOR_BOUNDS, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: huge }] }] }, /must be at most 64 characters$/],
    [{ virtualMachines: [{ id: VM_FOR_BOUNDS, ports: [{ number: 22, duration: "PT1H" }] }], justification: huge }, /^justification: invalid request: must be at most 1000 characters$/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => checkRequest(policy, input as never, { now: 0 }), (e: unknown) => e instanceof JitError && e.code === "InvalidInput" && message.test(e.message), String(message));
  }
});

const VM_FOR_BOUNDS = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1";
