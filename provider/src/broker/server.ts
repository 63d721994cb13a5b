import * as http from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { AccessContext, AccessOptions, openContext } from "../access";
import { Console, ConsoleOptions, isConsolePath } from "../console";
import { announceExpiring } from "../access/announce";
import { JitError, errorMessage } from "../model";
import { Authenticators, BrokerCaller, authenticate } from "./auth";
import { HttpError, toHttpError } from "./errors";
import { OPENAPI } from "./openapi";
import { RateLimiter } from "./rate-limit";
import * as routes from "./routes";
import { outbound } from "./outbound";
import { Notifier, NotifierOptions } from "../notify";

/**
 * `jit serve`: the access broker. It runs with the broker identity, the only identity that writes
 * network rules; callers prove who they are (Entra ID token, signed STS request) and are authorised
 * per request (the cloud's request permission, the policy's requesters), then the broker makes the
 * grant with its own credentials through the same use cases as the CLI and the Pulumi resources.
 *
 * Built on Node's own `http`: the API is eight routes with JSON in and out, and every concern a
 * framework would bring (body caps, timeouts, rate limits, one log line per request) is a few lines
 * here, auditable in one place, with no dependency to keep patched in the one process that holds
 * write rights.
 */
export interface BrokerOptions {
  /** Ledger, drivers (made with the broker identity's credentials by default) and clock. */
  access?: AccessOptions;
  auth: Authenticators;
  /** Principals (ids, names, or ARN patterns) who may see every grant and the audit log. */
  readers?: readonly string[];
  /** Principals who may also revoke anybody's grant. */
  admins?: readonly string[];
  limits?: Partial<BrokerLimits>;
  /** Where the one JSON line per request goes (default stdout). */
  log?: (line: string) => void;
  /** The clock of the rate limiter and of console sessions. */
  now?: () => number;
  /** The web console under `/console/` (on unless `false`). */
  console?: ConsoleOptions | false;
  /** How long a request waits for approval when its policy names no `approvalTimeout` (default PT1H). */
  approvalTimeout?: string;
  /** Notification sinks, delivered from the ledger's outbox in the background. */
  notify?: BrokerNotifyOptions;
}

export interface BrokerNotifyOptions extends Omit<NotifierOptions, "send" | "log"> {
  /** How long before its end a grant is announced as expiring (default 10 minutes). */
  expiringWithinMs?: number;
  /** How often the outbox is read, in ms (default 2000); 0: only when `broker.notifier.round()` is called. */
  intervalMs?: number;
  send?: NotifierOptions["send"];
}

export interface BrokerLimits {
  maxBodyBytes: number;
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Requests per minute per caller (and per address before authentication), with `burst` at once. */
  perMinute: number;
  burst: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  maxBodyBytes: 64 * 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  perMinute: 120,
  burst: 30,
};

type Handler = (input: routes.RouteInput) => Promise<routes.RouteResult>;
interface Route {
  method: "GET" | "POST";
  /** The route as the OpenAPI document and the log name it. */
  template: string;
  pattern: RegExp;
  handler?: Handler;
  /** Served without authentication. */
  open?: (broker: Broker) => Promise<routes.RouteResult>;
}

const SEGMENT = "([A-Za-z0-9._-]{1,128})";
const ROUTES: Route[] = [
  { method: "GET", template: "/healthz", pattern: /^\/healthz$/, open: async () => ({ status: 200, body: { status: "ok" } }) },
  { method: "GET", template: "/readyz", pattern: /^\/readyz$/, open: (b) => b.ready() },
  { method: "GET", template: "/v1/openapi.json", pattern: /^\/v1\/openapi\.json$/, open: async () => ({ status: 200, body: OPENAPI }) },
  { method: "GET", template: "/v1/auth", pattern: /^\/v1\/auth$/, open: async (b) => ({ status: 200, body: b.authMethods() }) },
  { method: "GET", template: "/v1/policies", pattern: /^\/v1\/policies$/, handler: routes.listPolicies },
  { method: "POST", template: "/v1/policies/{policy}/initiate", pattern: new RegExp(`^/v1/policies/${SEGMENT}/initiate$`), handler: routes.initiate },
  { method: "POST", template: "/v1/policies/{policy}/connect", pattern: new RegExp(`^/v1/policies/${SEGMENT}/connect$`), handler: routes.connect },
  { method: "GET", template: "/v1/grants", pattern: /^\/v1\/grants$/, handler: routes.listGrants },
  { method: "GET", template: "/v1/grants/{grant}", pattern: new RegExp(`^/v1/grants/${SEGMENT}$`), handler: routes.getGrant },
  { method: "POST", template: "/v1/grants/{grant}/revoke", pattern: new RegExp(`^/v1/grants/${SEGMENT}/revoke$`), handler: routes.revoke },
  { method: "POST", template: "/v1/grants/{grant}/extend", pattern: new RegExp(`^/v1/grants/${SEGMENT}/extend$`), handler: routes.extend },
  { method: "GET", template: "/v1/audit", pattern: /^\/v1\/audit$/, handler: routes.listAudit },
  { method: "GET", template: "/v1/approvals", pattern: /^\/v1\/approvals$/, handler: routes.listApprovals },
  { method: "POST", template: "/v1/grants/{grant}/approve", pattern: new RegExp(`^/v1/grants/${SEGMENT}/approve$`), handler: routes.decide("approve") },
  { method: "POST", template: "/v1/grants/{grant}/deny", pattern: new RegExp(`^/v1/grants/${SEGMENT}/deny$`), handler: routes.decide("deny") },
];
const CONSOLE_ROUTE: Route = { method: "GET", template: "/console/*", pattern: /^\/console(\/|$)/ };
const PARAM_NAMES: Record<string, string> = {
  "/v1/policies/{policy}/initiate": "policy",
  "/v1/policies/{policy}/connect": "policy",
  "/v1/grants/{grant}": "grant",
  "/v1/grants/{grant}/revoke": "grant",
  "/v1/grants/{grant}/approve": "grant",
  "/v1/grants/{grant}/deny": "grant",
  "/v1/grants/{grant}/extend": "grant",
};

export class Broker {
  readonly limits: BrokerLimits;
  private readonly limiter: RateLimiter;
  private readonly log: (line: string) => void;
  private readonly console?: Console;
  /** Delivers notifications, when sinks are configured. */
  readonly notifier?: Notifier;

  constructor(
    readonly ctx: AccessContext,
    private readonly options: BrokerOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.limiter = new RateLimiter(this.limits.perMinute, this.limits.burst, options.now);
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    if (options.console !== false) this.console = new Console(this, options.auth, options.console ?? {}, options.now ?? Date.now);
    const notify = options.notify;
    if (notify && notify.sinks.length > 0) {
      this.notifier = new Notifier(ctx.ledger, { ...notify, send: notify.send ?? outbound(), log: (fields) => this.write(fields) });
    }
  }

  /** Queues "expiring" for grants that end soon (see `announceExpiring`); the delivery loop calls it before each round. */
  announceExpiring(): Promise<number> {
    return announceExpiring(this.ctx, this.options.notify?.expiringWithinMs);
  }

  authMethods() {
    const { azure, aws, devIdentity } = this.options.auth;
    return {
      methods: [
        ...(azure ? [{ cloud: "azure", scheme: "Bearer", audience: azure.audience }] : []),
        ...(aws ? [{ cloud: "aws", scheme: "JIT-AWS-STS", brokerId: aws.brokerId, stsEndpoint: aws.stsEndpoint, stsRegion: aws.stsRegion }] : []),
      ],
      ...(devIdentity !== undefined ? { devIdentity } : {}),
    };
  }

  async ready(): Promise<routes.RouteResult> {
    try {
      await this.ctx.ledger.listPolicies();
      // A failing sink is shown, not made a reason to stop serving: grants never wait for notifications.
      return { status: 200, body: { status: "ready", ...(this.notifier ? { notifications: this.notifier.status() } : {}) } };
    } catch {
      return { status: 503, body: { error: { code: "Unavailable", message: "the ledger cannot be read" } } };
    }
  }

  /** Answers one request from Node's HTTP server; never throws. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const peer = req.socket.remoteAddress ?? "unknown";
    if (this.console && isConsolePath(new URL(req.url ?? "/", "http://broker.invalid").pathname)) {
      await this.serveConsole(this.console, req, res, peer);
      return;
    }
    const answer = await this.dispatch({
      method: req.method ?? "GET",
      url: req.url ?? "/",
      authorization: req.headers.authorization,
      peer,
      body: () => this.readBody(req),
    });
    send(res, answer.status, answer.body, answer.headers);
  }

  /**
   * Answers one API request, whatever carried it (Node's HTTP server, a function URL or API
   * Gateway event): routing, rate limits, authentication, the route, and the one log line. Never throws.
   */
  async dispatch(req: BrokerRequest): Promise<BrokerResponse> {
    const line = this.requestLine(req.method, req.peer);
    try {
      const url = new URL(req.url, "http://broker.invalid");
      const { route: found, params } = this.match(req.method, url.pathname);
      line.route = found;
      let result: routes.RouteResult;
      if (found.open) {
        result = await found.open(this);
      } else {
        this.limit(`address:${req.peer}`);
        const caller = req.caller ?? (await authenticate(this.options.auth, req.authorization));
        line.caller = caller;
        this.limit(`caller:${caller.principal.id}`);
        const body = found.method === "POST" ? await req.body() : undefined;
        result = await this.run(found, params, caller, req.peer, url.searchParams, body);
      }
      line.status = result.status;
      return { status: result.status, body: result.body, headers: {} };
    } catch (err) {
      const answer = line.failed(err);
      return { status: answer.status, body: answer.body, headers: answer.headers ?? {} };
    } finally {
      line.end();
    }
  }

  /** The console writes its own answers (HTML, redirects, cookies); the broker keeps the log line. */
  private async serveConsole(console: Console, req: http.IncomingMessage, res: http.ServerResponse, peer: string): Promise<void> {
    const line = this.requestLine(req.method ?? "GET", peer);
    line.route = CONSOLE_ROUTE;
    try {
      const served = await console.handle(req, res, new URL(req.url ?? "/", "http://broker.invalid"), peer);
      line.status = served.status;
      line.outcome = served.outcome;
      line.caller = served.caller;
    } catch (err) {
      const answer = line.failed(err);
      send(res, answer.status, answer.body, answer.headers);
    } finally {
      line.end();
    }
  }

  /** What the one JSON log line of a request says, filled in as the request is answered. */
  private requestLine(method: string, peer: string) {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const line = {
      route: undefined as Route | undefined,
      caller: undefined as BrokerCaller | undefined,
      status: 500,
      outcome: "ok",
      failed: (err: unknown) => {
        const answer = toHttpError(err);
        line.status = answer.status;
        line.outcome = answer.body.error.code;
        if (answer.status >= 500) this.write({ level: "error", requestId, error: errorMessage(err) });
        return answer;
      },
      end: () =>
        this.write({
          level: "info",
          requestId,
          method,
          route: line.route?.template ?? "(none)",
          status: line.status,
          outcome: line.outcome,
          caller: line.caller?.principal.id ?? null,
          peer,
          latencyMs: Number(process.hrtime.bigint() - started) / 1e6,
        }),
    };
    return line;
  }

  private match(method: string, pathname: string): { route: Route; params: Record<string, string> } {
    const matches = ROUTES.filter((r) => r.pattern.test(pathname));
    if (matches.length === 0) routes.notFound();
    const route = matches.find((r) => r.method === method);
    if (!route) throw new HttpError(405, "MethodNotAllowed", `${method} is not allowed here; use ${matches.map((r) => r.method).join(" or ")}`, { allow: matches.map((r) => r.method).join(", ") });
    const param = PARAM_NAMES[route.template];
    return { route, params: param ? { [param]: decodeURIComponent(route.pattern.exec(pathname)?.[1] ?? "") } : {} };
  }

  private run(route: Route, params: Record<string, string>, caller: BrokerCaller, peer: string, query: URLSearchParams, body: unknown): Promise<routes.RouteResult> {
    if (!route.handler) routes.notFound();
    return route.handler({
      ctx: this.ctx,
      caller,
      peer: peer.replace(/^::ffff:/, ""),
      params,
      query,
      body,
      readers: this.options.readers ?? [],
      admins: this.options.admins ?? [],
      ...(this.options.approvalTimeout ? { approvalTimeout: this.options.approvalTimeout } : {}),
    });
  }

  /**
   * One API route, in process, for a caller the console has already authenticated: the console
   * goes through the very handlers (and so the authorisation) the HTTP API uses.
   */
  call(caller: BrokerCaller, peer: string, method: "GET" | "POST", path: string, body?: unknown): Promise<routes.RouteResult> {
    const url = new URL(path, "http://broker.invalid");
    const { route, params } = this.match(method, url.pathname);
    return this.run(route, params, caller, peer, url.searchParams, method === "POST" ? (body ?? {}) : undefined);
  }

  limit(key: string): void {
    const wait = this.limiter.take(key);
    if (wait > 0) throw new HttpError(429, "RateLimited", `too many requests; try again in ${wait} s`, { "retry-after": String(wait) });
  }

  private async readBody(req: http.IncomingMessage): Promise<unknown> {
    return jsonBody(await this.readBytes(req), req.headers["content-type"], this.limits.maxBodyBytes);
  }

  /** The request body, refused (413) past `maxBodyBytes` without reading the rest. */
  readBytes(req: http.IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers["content-length"] ?? 0);
    const max = this.limits.maxBodyBytes;
    return new Promise((resolve, reject) => {
      if (declared > max) return reject(tooLarge(max));
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          reject(tooLarge(max));
          req.removeAllListeners("data");
          req.resume();
          return;
        }
        chunks.push(chunk);
      });
      req.on("error", reject);
      req.on("end", () => resolve(Buffer.concat(chunks)));
    });
  }

  /** One JSON line; the request's credentials are never among its fields. */
  private write(fields: Record<string, unknown>): void {
    this.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
  }
}

/** A request as the broker needs it, from whichever transport carried it. */
export interface BrokerRequest {
  method: string;
  /** The path and query, e.g. /v1/grants?state=live. */
  url: string;
  /** The `Authorization` header, which `authenticate` reads. */
  authorization: string | undefined;
  /** The caller's network address. */
  peer: string;
  /**
   * A caller the transport has already authenticated (a function URL with IAM auth signs the
   * request for AWS, which verifies it and names the caller); otherwise the broker authenticates.
   */
  caller?: BrokerCaller;
  /** Reads and parses the body (POST routes only), within `limits.maxBodyBytes`. */
  body(): Promise<unknown>;
}

export interface BrokerResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

function tooLarge(max: number): HttpError {
  return new HttpError(413, "PayloadTooLarge", `the body is larger than ${max} bytes`);
}

/** A request body as JSON: empty is `{}`; anything else must be declared application/json and fit in `max` bytes. */
export function jsonBody(raw: Buffer, contentType: string | undefined, max: number): unknown {
  if (raw.length > max) throw tooLarge(max);
  if (raw.length === 0) return {};
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") throw new HttpError(415, "UnsupportedMediaType", "send the body as application/json");
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "InvalidInput", "the body is not JSON");
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(text);
}

export interface RunningBroker {
  url: string;
  broker: Broker;
  close(): Promise<void>;
}

/** Starts the broker on `host:port` (port 0: any free one). */
export async function startBroker(options: BrokerOptions, listen: { host: string; port: number }): Promise<RunningBroker> {
  if (options.auth.devIdentity !== undefined && !isLoopback(listen.host)) {
    throw new JitError(
      "InvalidInput",
      `--dev-identity trusts anyone who can connect, so it is only allowed on a loopback address (127.0.0.1, ::1), not ${listen.host}`,
      { field: "--dev-identity" },
    );
  }
  const ctx = await openContext(options.access ?? {});
  const broker = new Broker(ctx, options);
  const interval = options.notify?.intervalMs ?? 2000;
  const delivering = broker.notifier && interval > 0 ? broker.notifier.start(interval, () => broker.announceExpiring()) : undefined;
  const server = http.createServer({ maxHeaderSize: broker.limits.maxHeaderBytes, requestTimeout: broker.limits.requestTimeoutMs, headersTimeout: broker.limits.headersTimeoutMs });
  server.keepAliveTimeout = broker.limits.keepAliveTimeoutMs;
  server.maxHeadersCount = 64;
  server.on("request", (req, res) => void broker.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    broker,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await delivering?.stop();
      await ctx.close();
    },
  };
}

export function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
