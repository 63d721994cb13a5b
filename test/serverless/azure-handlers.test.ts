// The Azure Functions package, built by esbuild and loaded from a temp directory with no
// node_modules, runs against the local ARM endpoint (tokens verified, every call authorised) with
// an azurite ledger and expiry queue: an HTTP request with an Entra ID token grants and enqueues
// its expiry hidden until the grant's end; the message, read when it appears, closes the grant; the
// timer's sweep closes a grant whose message was lost. Time moves on mocked clocks, never by sleeping.
import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { QueueClient } from "@azure/storage-queue";
import type { SweepReport } from "../../provider/src/access";
import { startAzureEmulator } from "../../provider/src/emulator/azure";
import { openLedger } from "../../provider/src/ledger";
import type { Grant } from "../../provider/src/model";
import { azureActions } from "../../provider/src/roles";
import { deployPolicy, reaches } from "../azure/support";
import { setEnv } from "../support/env";
import { startAzurite } from "../support/servers";
import { buildIntoTemp, loadPackage, startClockedAzuriteQueue } from "./support";

const SOURCE = "203.0.113.7";
const START = Date.parse("2030-03-01T10:00:00.000Z");

interface AzurePackage {
  httpHandler(request: HttpRequest, context: InvocationContext): Promise<{ status: number; body: string }>;
  sweepHandler(timer: unknown, context: InvocationContext): Promise<SweepReport>;
  expireHandler(message: unknown, context: InvocationContext): Promise<string | undefined>;
  clientAddress(forwarded: string | null): string;
}

test("Azure package: a token-authenticated HTTP request grants and enqueues its expiry hidden until its end; the message closes it then; the timer's sweep closes one whose message was lost", async (t) => {
  const built = await buildIntoTemp("azure");
  t.after(() => built.remove());
  // The emulator's TLS certificate is made on the real clock (TLS checks it against the real one).
  const emu = await startAzureEmulator({ lroPolls: 0 });
  t.after(() => emu.close());
  mock.timers.enable({ apis: ["Date"], now: START });
  t.after(() => mock.timers.reset());
  const tables = await startAzurite();
  t.after(() => tables.stop());
  const queues = await startClockedAzuriteQueue();
  t.after(() => queues.stop());
  await queues.setTime(START);
  // The queue server's clock runs on in real time from here, while the test's stands still.
  const queueSet = performance.now();

  const vm = emu.seed.typicalVm({ resourceGroup: "app", name: "web1" });
  emu.seed.principal("jit-broker", { actions: azureActions("broker") });
  emu.seed.principal("ana", { actions: azureActions("request") });
  const connection = `${tables.env.AZURE_STORAGE_CONNECTION_STRING}QueueEndpoint=${queues.endpoint};`;
  t.after(setEnv({
    ...emu.env("jit-broker"),
    // A token that outlives the test's virtual hours.
    JIT_AZURE_TOKEN: emu.identity.token("jit-broker", { exp: Math.floor(START / 1000) + 3 * 86400 }),
    AZURE_STORAGE_CONNECTION_STRING: connection,
    JIT_LEDGER: tables.url,
    JIT_LEDGER_INIT: "true",
    JIT_EXPIRY_QUEUE: "azurequeue://jit-expiry",
    JIT_AZURE_TENANTS: emu.identity.tenantId,
    JIT_AZURE_AUTHORITY: emu.identity.authorityHost,
    JIT_AZURE_AUDIENCES: emu.identity.audience,
    JIT_CA_FILE: emu.env().JIT_AZURE_CA_FILE,
  }));
  const queue = new QueueClient(connection, "jit-expiry");
  await queue.create();
  const ledger = await openLedger(tables.url, { init: true });
  t.after(() => ledger.close());
  const { createAzureDriver } = await import("../../provider/src/azure");
  const admin = createAzureDriver({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credentialFor(emu.options.principal) as never, pollIntervalMs: 0, backoffMs: 5 });
  await deployPolicy({ emu, driver: admin, ledger } as never, { name: "web", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }] });
  assert.ok(!reaches(emu, vm, SOURCE, 22));

  const fn = loadPackage<AzurePackage>(built.dir);
  const invocation = () => new InvocationContext({ functionName: "test" });
  const request = async (method: string, path: string, body: unknown, token: string | undefined) =>
    fn.httpHandler(
      new HttpRequest({
        method,
        url: `https://jit-app.azurewebsites.net${path}`,
        headers: { "content-type": "application/json", "x-forwarded-for": `10.0.0.9, ${SOURCE}:51234`, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: { string: JSON.stringify(body) } }),
      }),
      invocation(),
    );
  const ask = (duration: string) => ({ virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration, allowedSourceAddressPrefix: SOURCE }] }], justification: "INC-7" });
  assert.equal(fn.clientAddress("1.2.3.4, 203.0.113.9:443"), "203.0.113.9", "the address Azure's front end appended, not the client's claim");

  assert.equal((await request("POST", "/v1/policies/web/initiate", ask("PT1H"), undefined)).status, 401);
  const tokenOf = async () => (await emu.credentialFor("ana").getToken("x"))!.token;
  const token = await tokenOf();
  const sentAfter = performance.now() - queueSet;
  const answer = await request("POST", "/v1/policies/web/initiate", ask("PT1H"), token);
  const sentBefore = performance.now() - queueSet;
  assert.equal(answer.status, 201, answer.body);
  const grant = JSON.parse(answer.body) as Grant;
  assert.equal(grant.state, "active");
  assert.equal(grant.requester, emu.claimsFor("ana").oid);
  assert.ok(reaches(emu, vm, SOURCE, 22));

  // The expiry message is there, hidden until the end.
  assert.equal((await queue.getProperties()).approximateMessagesCount, 1);
  assert.equal((await queue.receiveMessages()).receivedMessageItems.length, 0, "hidden before the end");
  // On the queue server's clock the message went in between sentAfter and sentBefore after START.
  await queues.setTime(Date.parse(grant.endTimeUtc) - 2000 + sentAfter);
  assert.equal((await queue.receiveMessages()).receivedMessageItems.length, 0, "still hidden 2 s before the end");
  mock.timers.setTime(Date.parse(grant.endTimeUtc));
  await queues.setTime(Date.parse(grant.endTimeUtc) + sentBefore);
  const [message] = (await queue.receiveMessages()).receivedMessageItems;
  assert.ok(message, "visible at the end");
  // The Functions host hands the handler the decoded JSON.
  const ended = await fn.expireHandler(JSON.parse(Buffer.from(message.messageText, "base64").toString("utf8")), invocation());
  await queue.deleteMessage(message.messageId, message.popReceipt);
  assert.equal(ended, "expired");
  assert.ok(!reaches(emu, vm, SOURCE, 22), "closed at its end");
  await assert.rejects(fn.expireHandler("not json", invocation()), (e: { code?: string }) => e.code === "InvalidInput");

  // A second grant whose message is lost: the timer's sweep closes it.
  const second = JSON.parse((await request("POST", "/v1/policies/web/initiate", ask("PT30M"), await tokenOf())).body) as Grant;
  assert.equal(second.state, "active");
  await queue.clearMessages();
  mock.timers.setTime(Date.parse(second.endTimeUtc) + 3 * 60_000);
  const report = await fn.sweepHandler({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: {} }, invocation());
  assert.deepEqual(report.restored, [{ grantId: second.id, state: "expired" }]);
  assert.ok(!reaches(emu, vm, SOURCE, 22));
});
