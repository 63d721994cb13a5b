import { test } from "node:test";
import assert from "node:assert/strict";
import { AuditEventInput, newAuditEvent, parseAuditEvent } from "./audit";
import { redactSecrets } from "./redact";
import { assertJitError } from "./testing/assert";
import { AZURE_VM, NOW } from "./testing/fixtures";

const refused = (): Omit<AuditEventInput, "id" | "time"> => ({
  actor: "ana@contoso.com",
  action: "grant.refuse",
  target: { policy: "web", vm: AZURE_VM },
  justification: "INC-1234",
  sourceAddress: "203.0.114.7",
  outcome: "refused",
  code: "RequestNotAllowed",
  message: "virtualMachines[0].ports[0].allowedSourceAddressPrefix: \"203.0.114.7\" is not inside ...",
});

test("an audit event records who, what, which target, why, from where and how it ended", () => {
  const event = newAuditEvent({ ...refused(), time: NOW });
  assert.match(event.id, /^[a-z2-7]{16}$/);
  assert.equal(event.time, "2030-01-01T12:00:00.000Z");
  assert.deepEqual({ ...event, id: "x" }, { ...refused(), id: "x", time: "2030-01-01T12:00:00.000Z" });
  assert.deepEqual(parseAuditEvent(JSON.parse(JSON.stringify(event))), event);
  assert.notEqual(newAuditEvent(refused()).id, newAuditEvent(refused()).id);
});

test("no secret survives into an audit event", () => {
  const event = newAuditEvent({
    ...refused(),
    outcome: "failed",
    justification: "token=abc123 for INC-1",
    message:
      "PUT https://acct.blob.core.windows.net/c?sv=2022&sig=Zm9vYmFy%3D failed\nAuthorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl; key AKIAABCDEFGHIJKLMNOP",
  });
  assert.equal(event.justification, "[redacted] for INC-1");
  assert.equal(event.message, "PUT https://acct.blob.core.windows.net/c?sv=2022&[redacted] failed Authorization: Bearer [redacted]; key [redacted]");
  assert.equal(event.message?.includes("\n"), false, "control characters in machine text become spaces");
});

test("redaction catches the credential shapes that reach logs, and leaves ordinary text alone", () => {
  const cases: [string, string][] = [
    ["aws key AKIAABCDEFGHIJKLMNOP here", "aws key [redacted] here"],
    ["session ASIAABCDEFGHIJKLMNOP", "session [redacted]"],
    ["jwt eyJhbGciOi.eyJzdWIiOi.c2ln end", "jwt [redacted] end"],
    ["Authorization: bearer abc.def-ghi", "Authorization: [redacted]"],
    ["DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0==;EndpointSuffix=x", "DefaultEndpointsProtocol=https;AccountName=a;[redacted];EndpointSuffix=x"],
    ["client_secret: s3cr3t", "[redacted]"],
    ["PASSWORD=hunter2 next", "[redacted] next"],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after", "[redacted] after"],
    ["INC-1234: patch sshd on web1 from 203.0.113.7", "INC-1234: patch sshd on web1 from 203.0.113.7"],
    ["grant abcdefghijkl expired", "grant abcdefghijkl expired"],
  ];
  for (const [text, expected] of cases) {
    assert.equal(redactSecrets(text), expected, text);
    assert.equal(redactSecrets(expected), expected, "idempotent");
  }
});

test("audit refusals name the field", () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ action: "grant.delete" }, "action", /Invalid option/],
    [{ outcome: "ok" }, "outcome", /Invalid option/],
    [{ actor: "" }, "actor", /Too small/],
    [{ target: { grant: "NOT-AN-ID" } }, "target.grant", /must be 12 characters of a-z and 2-7/],
    [{ target: { vm: "vm1" } }, "target.vm", /"vm1" is not a VM id/],
    [{ sourceAddress: "somewhere" }, "sourceAddress", /must be an IP address, a CIDR block or \*/],
    [{ justification: "a\u0007b" }, "justification", /must be one line without control characters/],
    [{ password: "x" }, "", /Unrecognized key: "password"/],
  ];
  for (const [change, field, message] of cases) {
    assertJitError(() => newAuditEvent({ ...refused(), ...change } as never), "InvalidInput", field || undefined, message);
  }
});
