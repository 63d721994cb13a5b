import { test } from "node:test";
import assert from "node:assert/strict";
import { assertJitError } from "../model/testing/assert";
import { parseBrokerConfig } from "./config";

const SECRET = "0123456789abcdef0123456789abcdef";

test("a YAML config: listen, identities, readers, console, approval defaults and sinks, with secrets from the environment", () => {
  const config = parseBrokerConfig(
    `
listen: 0.0.0.0:8443
azure:
  tenants: [72f988bf-86f1-41af-91ab-2d7cd011db47]
aws:
  stsEndpoints: [https://sts.eu-west-1.amazonaws.com/]
  brokerId: jit.example.com
readers: [audit@contoso.com]
admins: [ops@contoso.com]
rate: 60
consoleUrl: https://jit.example.com
approvals:
  defaultTimeout: PT30M
notifications:
  intervalSeconds: 5
  sinks:
    - { kind: slack, name: ops, url: { env: SLACK_URL } }
    - { kind: teams, name: sec, url: "https://contoso.webhook.office.com/x", events: [pending-approval, break-glass] }
    - { kind: webhook, name: siem, url: "https://siem.example.com/jit", secret: { env: SIEM_SECRET } }
`,
    "broker.yaml",
    { SLACK_URL: "https://hooks.slack.com/services/T/B/X", SIEM_SECRET: SECRET },
  );
  assert.equal(config.listen, "0.0.0.0:8443");
  assert.equal(config.rate, 60);
  assert.equal(config.approvals?.defaultTimeout, "PT30M");
  assert.deepEqual(config.notifications?.sinks, [
    { kind: "slack", name: "ops", url: "https://hooks.slack.com/services/T/B/X" },
    { kind: "teams", name: "sec", url: "https://contoso.webhook.office.com/x", events: ["pending-approval", "break-glass"] },
    { kind: "webhook", name: "siem", url: "https://siem.example.com/jit", secret: SECRET },
  ]);
});

test("JSON is accepted too, and an empty file is an empty config", () => {
  assert.deepEqual(parseBrokerConfig(JSON.stringify({ devIdentity: "ana@example.com" }), "broker.json"), { devIdentity: "ana@example.com" });
  assert.deepEqual(parseBrokerConfig("", "empty.yaml"), {});
});

test("every mistake names its key path, and nothing of a secret", () => {
  const bad = (text: string, field: string, message: RegExp, env: NodeJS.ProcessEnv = {}) => assertJitError(() => parseBrokerConfig(text, "broker.yaml", env), "InvalidInput", field, message);
  bad("listen: nowhere", "listen", /must be host:port/);
  bad("lissten: 127.0.0.1:80", "lissten", /unknown key "lissten"/);
  bad("aws: { stsEndpoints: ['https://sts.example.com'], brokerId: b, region: x }", "aws.region", /unknown key "region"/);
  bad("rate: 0", "rate", /at least 1/);
  bad("azure: { tenants: [contoso] }", "azure.tenants[0]", /must be a tenant id/);
  bad("approvals: { defaultTimeout: P30D }", "approvals.defaultTimeout", /outside the allowed range PT1M to P7D/);
  bad("notifications: { sinks: [{ kind: email, name: x, url: https://x }] }", "notifications.sinks[0].kind", /Expected 'slack' \| 'teams' \| 'webhook'/);
  bad("notifications: { sinks: [{ kind: slack, name: ops, url: 'http://hooks.example.com/x' }] }", "notifications.sinks[0].url", /must be https/);
  bad("notifications: { sinks: [{ kind: webhook, name: siem, url: 'https://x.example.com', secret: short }] }", "notifications.sinks[0].secret", /at least 32 characters/);
  bad("notifications: { sinks: [{ kind: slack, name: ops, url: { env: NOPE } }] }", "notifications.sinks[0].url", /environment variable NOPE is not set/);
  bad("notifications: { sinks: [{ kind: slack, name: ops, url: 'https://a.example.com', events: [sometimes] }] }", "notifications.sinks[0].events[0]", /Invalid option/);
  bad(`notifications: { sinks: [{ kind: slack, name: ops, url: 'https://a.example.com' }, { kind: teams, name: ops, url: 'https://b.example.com' }] }`, "notifications.sinks[1].name", /"ops" is used twice/);
  bad("azure: [1\nrate: 2", "--config", /broker\.yaml line 2, column 1 is not YAML or JSON/);
  try {
    parseBrokerConfig(`notifications: { sinks: [{ kind: webhook, name: siem, url: 'ftp://x', secret: ${SECRET} }] }`, "broker.yaml");
    assert.fail("refused");
  } catch (err) {
    assert.ok(!(err as Error).message.includes(SECRET), "the secret is not repeated in the error");
  }
});
