import { FakeDriver } from "../../provider/src/access/testing/fake-driver";
import { BrokerOptions, RunningBroker, startBroker } from "../../provider/src/broker";
import { Ledger, openLedger } from "../../provider/src/ledger";

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
