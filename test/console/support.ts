import * as https from "node:https";
import { FakeDriver } from "../../provider/src/access/testing/fake-driver";
import { createAzureDriver } from "../../provider/src/azure";
import { AzureTokenVerifier, BrokerOptions, RunningBroker, outbound, startBroker } from "../../provider/src/broker";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { azureActions } from "../../provider/src/roles";
import { AzureWorld, azureWorld, deployPolicy } from "../azure/support";

export const VM = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1";
export const POLICY = {
  name: "web",
  virtualMachines: [{ id: VM, ports: [{ number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }],
};
/** Browsers and tests make many requests a minute; the console's rate limit is the API's, raised here. */
export const TEST_LIMITS = { perMinute: 100_000, burst: 10_000 };

export interface DevConsole {
  broker: RunningBroker;
  ledger: Ledger;
  driver: FakeDriver;
  close(): Promise<void>;
}

/** A broker on 127.0.0.1 with the loopback development identity, an in-memory ledger and a fake cloud. */
export async function devConsole(options: Partial<BrokerOptions> = {}): Promise<DevConsole> {
  const ledger = await openLedger(":memory:");
  await ledger.putPolicy({ policy: POLICY, baseline: {} });
  const driver = new FakeDriver();
  const broker = await startBroker(
    { access: { ledger, drivers: { azure: driver } }, auth: { devIdentity: "dev@example.com" }, readers: ["dev@example.com"], log: () => undefined, limits: TEST_LIMITS, ...options },
    { host: "127.0.0.1", port: 0 },
  );
  return {
    broker,
    ledger,
    driver,
    close: async () => {
      await broker.close();
      await ledger.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A browser-like client without a browser: it keeps cookies (by name), sends the console's own
 * Origin on POST unless told otherwise, and reads the CSRF token out of the last page.
 */
export class FormClient {
  readonly cookies = new Map<string, string>();
  last = "";

  constructor(readonly base: string) {}

  get origin(): string {
    return new URL(this.base).origin;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === "" || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${this.base}${path}`, { redirect: "manual", headers: { cookie: this.cookieHeader(), ...headers } });
    this.keep(res);
    const text = await res.text();
    this.last = text;
    return { status: res.status, headers: res.headers, text };
  }

  async post(path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = { origin: this.origin }): Promise<Answer> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    const res = await fetch(`${this.base}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: this.cookieHeader(), "content-type": "application/x-www-form-urlencoded", ...headers },
      body: body.toString(),
    });
    this.keep(res);
    const text = await res.text();
    this.last = text;
    return { status: res.status, headers: res.headers, text };
  }

  /** The CSRF token of the last page's forms. */
  csrf(): string {
    const m = /name="csrf" value="([^"]+)"/.exec(this.last);
    if (!m) throw new Error(`no CSRF token on the page:\n${this.last.slice(0, 500)}`);
    return m[1];
  }

  /** Signs in as the development identity, as a person would: the sign-in page, then its button. */
  async signInDev(): Promise<void> {
    await this.get("/console/");
    const res = await this.post("/console/auth/dev", { csrf: this.csrf() });
    if (res.status !== 303) throw new Error(`dev sign-in answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
}

/** The Azure emulator as Entra ID and ARM, and a broker whose console signs in with the code flow against it. */
export interface AzureConsole {
  w: AzureWorld;
  vm: ReturnType<AzureWorld["emu"]["seed"]["typicalVm"]>;
  broker: RunningBroker;
  close(): Promise<void>;
}

export const CLIENT_ID = "3f0e9a52-7c1d-4b8e-9a1f-2c6d8e4b5a70";

/** `approvers` names emulator principals (their object ids go into the policy). */
export async function azureConsole(policy: { approvers?: string[]; approvalsRequired?: number } = {}, brokerOptions: Partial<BrokerOptions> = {}): Promise<AzureConsole> {
  const w = await azureWorld({ emulator: { lroPolls: 0 } });
  const vm = w.emu.seed.typicalVm({ resourceGroup: "app", name: "web1" });
  w.emu.seed.principal("jit-broker", { actions: azureActions("broker") });
  for (const p of ["ana", "bob", "cleo"]) w.emu.seed.principal(p, { actions: azureActions("request") });
  const approval = policy.approvers ? { approvers: policy.approvers.map((p) => w.emu.claimsFor(p).oid), approvalsRequired: policy.approvalsRequired ?? 1 } : {};
  await deployPolicy(w, { name: "web", ...approval, virtualMachines: [{ id: vm.vmId, ports: [POLICY.virtualMachines[0].ports[0]] }] });
  const ca = w.emu.clientOptions.tlsOptions.ca;
  const driver = createAzureDriver({ endpoint: w.emu.endpoint, ca, credential: w.emu.credentialFor("jit-broker") as never, pollIntervalMs: 0, backoffMs: 5, conflictRetries: 0, retryOptions: { maxRetries: 0 } });
  const verifier = new AzureTokenVerifier({ tenants: [w.emu.identity.tenantId], authorityHost: w.emu.identity.authorityHost, audiences: [w.emu.identity.audience], fetch: outbound({ ca }) });
  const broker = await startBroker(
    {
      access: { ledger: w.ledger, drivers: { azure: driver } },
      auth: { azure: verifier },
      readers: [w.emu.claimsFor("ana").oid, w.emu.claimsFor("bob").oid],
      log: () => undefined,
      limits: TEST_LIMITS,
      console: { azure: { clientId: CLIENT_ID, tenantId: w.emu.identity.tenantId, authorityHost: w.emu.identity.authorityHost }, fetch: outbound({ ca }) },
      ...brokerOptions,
    },
    { host: "127.0.0.1", port: 0 },
  );
  return {
    w,
    vm,
    broker,
    close: async () => {
      await broker.close();
      await w.close();
    },
  };
}

/** A GET to the emulator (HTTPS with its own CA), without following redirects. */
export function emulatorGet(emu: AzureWorld["emu"], url: string): Promise<{ status: number; location?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: emu.clientOptions.tlsOptions.ca }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}), text }));
    });
    req.on("error", reject);
  });
}

/** The first half of the code flow: the console's redirect to /authorize, and the identity provider's redirect back, for `principal`. */
export async function authorizeAs(client: FormClient, emu: AzureWorld["emu"], principal: string, from = "/console/auth/azure"): Promise<string> {
  const start = await client.get(from);
  if (start.status !== 303) throw new Error(`sign-in start answered ${start.status}`);
  const authorize = new URL(start.headers.get("location") as string);
  authorize.searchParams.set("login_hint", principal);
  const back = await emulatorGet(emu, authorize.href);
  if (back.status !== 302 || !back.location) throw new Error(`authorize answered ${back.status}: ${back.text.slice(0, 300)}`);
  return back.location;
}
