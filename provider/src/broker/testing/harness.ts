import { openLedger } from "../../ledger";
import { FakeDriver } from "../../access/testing/fake-driver";
import { AzureTokenVerifier } from "../auth";
import { outbound } from "../outbound";
import { BrokerOptions, RunningBroker, startBroker } from "../server";
import { TestAuthority, startTestAuthority } from "./authority";

export const VM = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1";
export const POLICY = {
  name: "web",
  virtualMachines: [{ id: VM, ports: [{ number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }],
};
export const READER = "00000000-0000-0000-0000-0000000000b2";

export interface Harness {
  broker: RunningBroker;
  authority: TestAuthority;
  driver: FakeDriver;
  verifier: AzureTokenVerifier;
  ledger: Awaited<ReturnType<typeof openLedger>>;
  logs: string[];
  clock: { t: number };
  call(method: string, path: string, options?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

/** A broker on 127.0.0.1 with an in-memory ledger, a fake cloud, and a test authority for tokens. */
export async function startHarness(options: Partial<BrokerOptions> = {}): Promise<Harness> {
  const authority = await startTestAuthority();
  const ledger = await openLedger(":memory:");
  await ledger.putPolicy({ policy: POLICY, baseline: {} });
  const driver = new FakeDriver();
  const clock = { t: Date.now() };
  const logs: string[] = [];
  const verifier = new AzureTokenVerifier({ tenants: [authority.tenantId], authorityHost: authority.url, fetch: outbound(), now: () => clock.t });
  const broker = await startBroker(
    { access: { ledger, drivers: { azure: driver } }, auth: { azure: verifier }, readers: [READER], log: (l) => logs.push(l), now: () => clock.t, ...options },
    { host: "127.0.0.1", port: 0 },
  );
  return {
    broker,
    authority,
    driver,
    verifier,
    ledger,
    logs,
    clock,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers };
      const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
      if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
      const res = await fetch(`${broker.url}${path}`, { method, headers, body });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
    },
    async close() {
      await broker.close();
      await authority.close();
      await ledger.close();
    },
  };
}
