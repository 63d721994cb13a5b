import type * as http from "node:http";
import { z } from "zod";
import type { AuditEvent, Grant } from "../model";
import { JitError } from "../model";
import { Authenticators, BrokerCaller, authenticate } from "../broker/auth";
import { decodeJwt } from "../broker/auth/jwt";
import { toHttpError } from "../broker/errors";
import { OPENAPI } from "../broker/openapi";
import { Outbound, outbound } from "../broker/outbound";
import type { RouteResult } from "../broker/routes";
import { SCRIPT, STYLE } from "./assets";
import { AzureSignIn, AzureSignInOptions } from "./azure-signin";
import { Html } from "./html";
import * as pages from "./pages";
import { DEFAULT_SESSION_LIMITS, Session, SessionLimits, SessionStore, sameSecret } from "./session";

/**
 * The web console: server-rendered pages under `/console/`, a face over the API's own route
 * handlers (called in process with the signed-in caller, so every check is the API's).
 *
 * What keeps it safe in a browser:
 * - a strict Content-Security-Policy (nothing by default; script and style from the broker only,
 *   nothing inline), no framing, no referrer to other sites;
 * - the session cookie is HttpOnly and SameSite=Strict, Secure (with the `__Host-` prefix) unless
 *   the console is plain http on a loopback address;
 * - every POST must come from the console's own origin (Origin, or Sec-Fetch-Site) and carry the
 *   session's synchronizer token;
 * - every text it shows goes through the one escaping `html` tag.
 */
export interface ConsoleOptions {
  /** The console's address as browsers reach it (e.g. https://jit.example.com). Needed when the broker listens on anything but loopback. */
  publicUrl?: string;
  /** Azure sign-in (authorization code with PKCE); the broker's Azure verifier checks the token. */
  azure?: AzureSignInOptions;
  sessions?: Partial<SessionLimits>;
  /** The calls out to the identity platform (default: HTTPS, no redirects, bounded). */
  fetch?: Outbound;
}

export const isConsolePath = (path: string): boolean => path === "/console" || path.startsWith("/console/");

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const LOOPBACK_HOST = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(?::\d{1,5})?$/i;

/** A console answer that is not a page of its own: a redirect, or a refusal shown as a page. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  peer: string;
  origin: string;
  secure: boolean;
  session?: Session;
  form?: URLSearchParams;
  cookies: string[];
}

const Form = {
  request: z.strictObject({
    csrf: z.string(),
    policy: z.string().min(1).max(128),
    vm: z.string().min(1).max(1024),
    port: z.array(z.coerce.number().int().min(0).max(65535)).min(1, { error: "choose at least one port" }).max(100),
    minutes: z.coerce.number({ error: "give the duration in whole minutes" }).int({ error: "give the duration in whole minutes" }).min(1, { error: "the duration must be at least 1 minute" }).max(7 * 1440),
    source: z.string().trim().min(1, { error: "give the address you connect from" }).max(64),
    justification: z.string().max(1000, { error: "the justification is at most 1000 characters" }),
  }),
  extend: z.strictObject({ csrf: z.string(), minutes: z.coerce.number().int().min(1).max(7 * 1440) }),
  csrfOnly: z.strictObject({ csrf: z.string() }),
  proof: z.strictObject({ csrf: z.string(), proof: z.string().trim().min(1, { error: "paste a signed identity proof" }).max(16 * 1024) }),
};

/**
 * What the broker that serves the console (broker/server.ts) gives it: the API's own handlers,
 * called in process, its rate limit, and its bounded body reader.
 */
export interface ConsoleHost {
  call(caller: BrokerCaller, peer: string, method: "GET" | "POST", path: string, body?: unknown): Promise<RouteResult>;
  limit(key: string): void;
  readBytes(req: http.IncomingMessage): Promise<Buffer>;
}

export class Console {
  private readonly sessions: SessionStore;
  private readonly azure?: AzureSignIn;
  private readonly publicOrigin?: string;

  constructor(
    private readonly broker: ConsoleHost,
    private readonly auth: Authenticators,
    options: ConsoleOptions,
    private readonly now: () => number,
  ) {
    this.sessions = new SessionStore({ ...DEFAULT_SESSION_LIMITS, ...options.sessions }, now);
    if (options.publicUrl !== undefined) {
      const url = new URL(options.publicUrl);
      if (url.protocol !== "https:" && !LOOPBACK_HOST.test(url.host)) {
        throw new JitError("InvalidInput", `the console's public URL must be https (or http on a loopback address), not ${url.origin}`, { field: "console.publicUrl" });
      }
      this.publicOrigin = url.origin;
    }
    if (options.azure) {
      if (!auth.azure) throw new JitError("InvalidInput", "Azure sign-in needs the broker's Azure token verifier (its tenants and authority)", { field: "console.azure" });
      this.azure = new AzureSignIn(options.azure, options.fetch ?? outbound());
    }
  }

  /** Answers one request under /console/; never throws. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, peer: string): Promise<{ status: number; outcome: string; caller?: BrokerCaller }> {
    const x: Exchange = { req, res, url, peer: peer.replace(/^::ffff:/, ""), origin: "", secure: false, cookies: [] };
    try {
      x.origin = this.originOf(req);
      x.secure = x.origin.startsWith("https:");
      this.broker.limit(`address:${x.peer}`);
      x.session = this.sessions.get(this.cookie(x, "session"));
      if (x.session?.caller) this.broker.limit(`caller:${x.session.caller.principal.id}`);
      if (req.method === "POST") await this.checkPost(x);
      else if (req.method !== "GET" && req.method !== "HEAD") throw new Refusal(405, `${req.method} is not allowed here`);
      const status = await this.route(x);
      return { status, outcome: status < 400 ? "ok" : "Refused", caller: x.session?.caller };
    } catch (err) {
      const { status, message, code } = err instanceof Refusal ? { status: err.status, message: err.message, code: "Refused" } : describe(err);
      this.page(x, status, pages.errorPage(this.frame(x), status, message), status === 429 ? { "retry-after": "60" } : {});
      return { status, outcome: code, caller: x.session?.caller };
    }
  }

  private async route(x: Exchange): Promise<number> {
    const path = x.url.pathname.slice("/console".length);
    const method = x.req.method === "POST" ? "POST" : "GET";
    if (method === "GET") {
      if (path === "") return this.redirect(x, "/console/");
      if (path === "/static/console.js") return this.asset(x, "text/javascript; charset=utf-8", SCRIPT);
      if (path === "/static/console.css") return this.asset(x, "text/css; charset=utf-8", STYLE);
      if (path === "/auth/azure") return this.startAzure(x);
      if (path === "/auth/callback") return this.finishAzure(x);
    } else {
      if (path === "/auth/dev") return this.signIn(x, "dev", () => authenticate({ devIdentity: this.auth.devIdentity }, undefined));
      if (path === "/auth/aws") return this.signInAws(x);
      if (path === "/signout") return this.signOut(x);
    }
    const caller = x.session?.caller;
    if (!caller) {
      if (method === "POST") throw new Refusal(403, "your session has ended; sign in again");
      if (path === "/") return this.signInPage(x);
      return this.redirect(x, `/console/?next=${encodeURIComponent(x.url.pathname + x.url.search)}`);
    }
    const grantAction = /^\/grants\/([A-Za-z0-9._-]{1,128})\/(revoke|extend)$/.exec(path);
    const approvalAction = /^\/approvals\/([A-Za-z0-9._-]{1,128})\/(approve|deny)$/.exec(path);
    if (method === "GET" && path === "/") return this.vms(x, caller);
    if (method === "GET" && path === "/request") return this.requestForm(x, caller);
    if (method === "POST" && path === "/request") return this.request(x, caller);
    if (method === "GET" && path === "/grants") return this.grants(x, caller);
    if (method === "POST" && grantAction) return this.grantAction(x, caller, grantAction[1], grantAction[2] as "revoke" | "extend");
    if (method === "GET" && path === "/approvals" && this.approvals) return this.approvalsPage(x, caller);
    if (method === "POST" && approvalAction && this.approvals) return this.approvalAction(x, caller, approvalAction[1], approvalAction[2] as "approve" | "deny");
    const one = /^\/requests\/([A-Za-z0-9._-]{1,128})$/.exec(path);
    if (method === "GET" && one) return this.oneRequest(x, caller, one[1]);
    if (method === "GET" && path === "/audit") return this.audit(x, caller);
    throw new Refusal(404, "there is no such page in the console");
  }

  // ---- What the broker offers, read from its own API description.

  private get approvals(): boolean {
    return Object.hasOwn(OPENAPI.paths, "/v1/approvals");
  }

  private get extend(): boolean {
    return Object.hasOwn(OPENAPI.paths, "/v1/grants/{grant}/extend");
  }

  // ---- Guards.

  /** The origin browsers use: the configured public URL, or on loopback the Host they asked for (which a rebound DNS name cannot be). */
  private originOf(req: http.IncomingMessage): string {
    if (this.publicOrigin) return this.publicOrigin;
    const host = req.headers.host ?? "";
    if (!LOOPBACK_HOST.test(host)) throw new Refusal(421, "this console serves loopback addresses only; set the console's public URL (jit serve --console-url) to serve it elsewhere");
    return `http://${host.toLowerCase()}`;
  }

  /** A POST must come from the console's own pages: same origin, a form body, and the session's (or the sign-in's) token. */
  private async checkPost(x: Exchange): Promise<void> {
    const origin = x.req.headers.origin;
    const site = x.req.headers["sec-fetch-site"];
    if (typeof origin === "string" ? origin !== x.origin : site !== "same-origin") {
      throw new Refusal(403, "this form was not sent from the console's own pages (its Origin is another site's); nothing was changed");
    }
    const type = (x.req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    const bytes = await this.broker.readBytes(x.req);
    if (type !== "application/x-www-form-urlencoded") throw new Refusal(415, "send the form as application/x-www-form-urlencoded");
    x.form = new URLSearchParams(bytes.toString("utf8"));
    const token = x.form.get("csrf") ?? "";
    const expected = x.session?.csrf ?? this.pendingCsrf(x);
    if (expected === undefined || token === "" || !sameSecret(token, expected)) {
      throw new Refusal(403, "this form's security token is missing or is not this session's; reload the page and try again. Nothing was changed");
    }
  }

  /** Signed out, the sign-in forms carry the token of the browser's pending sign-in. */
  private pendingCsrf(x: Exchange): string | undefined {
    return this.sessions.peekSignIn(this.cookie(x, "signin"))?.state;
  }

  /** The form's fields as an object (repeated `port` fields as a list; any other repeat refused). */
  private fields<S extends z.ZodType>(x: Exchange, schema: S, lists: string[] = []): z.output<S> {
    const form = x.form ?? new URLSearchParams();
    const out: Record<string, unknown> = {};
    for (const key of new Set(form.keys())) {
      const values = form.getAll(key);
      if (lists.includes(key)) out[key] = values;
      else if (values.length > 1) throw new JitError("InvalidInput", `the form field ${key} is given twice`, { field: key });
      else out[key] = values[0];
    }
    for (const key of lists) out[key] ??= [];
    const parsed = schema.safeParse(out);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new JitError("InvalidInput", issue.path.length > 0 ? `${String(issue.path[0])}: ${issue.message}` : issue.message, { field: String(issue.path[0] ?? "") });
    }
    return parsed.data;
  }

  // ---- Cookies.

  private cookieName(x: Exchange, name: "session" | "signin"): string {
    return x.secure ? `__Host-jit-${name}` : `jit-${name}`;
  }

  private cookie(x: Exchange, name: "session" | "signin"): string | undefined {
    const wanted = this.cookieName(x, name);
    const header = x.req.headers.cookie ?? "";
    if (header.length > 8192) return undefined;
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === wanted) return part.slice(eq + 1).trim();
    }
    return undefined;
  }

  /**
   * The session cookie is SameSite=Strict: no other site can make the browser send it. The sign-in
   * cookie is Lax, because the identity provider's redirect back is a cross-site navigation; it
   * only names a pending sign-in, which the callback consumes once.
   */
  private setCookie(x: Exchange, name: "session" | "signin", value: string, maxAgeSeconds: number): void {
    const attributes = [`${this.cookieName(x, name)}=${value}`, "Path=/", `Max-Age=${maxAgeSeconds}`, "HttpOnly", `SameSite=${name === "session" ? "Strict" : "Lax"}`];
    if (x.secure) attributes.push("Secure");
    x.cookies.push(attributes.join("; "));
  }

  // ---- Answers.

  private headers(x: Exchange, extra: Record<string, string> = {}): Record<string, string | string[]> {
    return {
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "cache-control": "no-store",
      ...(x.secure ? { "strict-transport-security": "max-age=31536000" } : {}),
      ...(x.cookies.length > 0 ? { "set-cookie": x.cookies } : {}),
      ...extra,
    };
  }

  private page(x: Exchange, status: number, page: Html, extra: Record<string, string> = {}): number {
    if (x.res.headersSent) return status;
    const body = Buffer.from(page.text, "utf8");
    x.res.writeHead(status, this.headers(x, { "content-type": "text/html; charset=utf-8", "content-length": String(body.length), ...extra }));
    x.res.end(x.req.method === "HEAD" ? undefined : body);
    return status;
  }

  private redirect(x: Exchange, location: string): number {
    x.res.writeHead(303, this.headers(x, { location, "content-length": "0" }));
    x.res.end();
    return 303;
  }

  private asset(x: Exchange, type: string, text: string): number {
    const body = Buffer.from(text, "utf8");
    x.res.writeHead(200, { ...this.headers(x, { "content-type": type, "content-length": String(body.length) }), "cache-control": "public, max-age=300" });
    x.res.end(x.req.method === "HEAD" ? undefined : body);
    return 200;
  }

  private frame(x: Exchange): pages.Frame {
    const s = x.session;
    const user = s?.caller ? { name: s.caller.principal.name ?? s.caller.principal.id, method: s.method ?? "", csrf: s.csrf } : undefined;
    return { now: this.now(), approvals: this.approvals, ...(user ? { user } : {}) };
  }

  // ---- Sign-in and sign-out.

  private signInPage(x: Exchange, message?: pages.Message, status = 200, next = landing(x.url.searchParams.get("next"))): number {
    const pending = this.sessions.startSignIn(next);
    this.setCookie(x, "signin", pending.id, 600);
    return this.page(x, status, pages.signInPage(this.frame(x), { csrf: pending.state, dev: this.auth.devIdentity, azure: this.azure !== undefined, aws: this.auth.aws !== undefined, ...(next ? { next } : {}) }, message));
  }

  /** A new session for who signed in (a new id, so a session fixed beforehand is worth nothing), then the console. */
  private async signIn(x: Exchange, method: NonNullable<Session["method"]>, prove: () => Promise<BrokerCaller>, expiresAt?: number, taken = this.sessions.takeSignIn(this.cookie(x, "signin"))): Promise<number> {
    if (method === "dev" && this.auth.devIdentity === undefined) throw new Refusal(404, "this broker has no development identity");
    const next = taken?.next ?? "/console/";
    let caller: BrokerCaller;
    try {
      caller = await prove();
    } catch (err) {
      return this.signInPage(x, { kind: "error", text: describe(err).message }, 401, taken?.next);
    }
    if (x.session) this.sessions.delete(x.session.id);
    x.session = this.sessions.create({ caller, method, ...(expiresAt !== undefined ? { expiresAt } : {}) });
    this.setCookie(x, "session", x.session.id, Math.ceil(this.sessions.limits.absoluteMs / 1000));
    this.setCookie(x, "signin", "", 0);
    return method === "azure" ? this.page(x, 200, pages.continuePage(next)) : this.redirect(x, next);
  }

  private signInAws(x: Exchange): Promise<number> {
    const aws = this.auth.aws;
    if (!aws) throw new Refusal(404, "this broker has no AWS identity verifier");
    const { proof } = this.fields(x, Form.proof);
    const credential = proof.replace(/^JIT-AWS-STS\s+/i, "");
    // A proof is good for minutes; the session for an hour at most, then the user signs a new one.
    return this.signIn(x, "aws", () => authenticate({ aws }, `JIT-AWS-STS ${credential}`), this.now() + 3600_000);
  }

  private startAzure(x: Exchange): number {
    if (!this.azure) throw new Refusal(404, "this broker has no Azure sign-in configured");
    const pending = this.sessions.startSignIn(landing(x.url.searchParams.get("next")));
    this.setCookie(x, "signin", pending.id, 600);
    return this.redirect(x, this.azure.authorizeUrl(`${x.origin}/console/auth/callback`, pending.state, pending.verifier));
  }

  private async finishAzure(x: Exchange): Promise<number> {
    const azure = this.azure;
    const verifier = this.auth.azure;
    if (!azure || !verifier) throw new Refusal(404, "this broker has no Azure sign-in configured");
    const q = x.url.searchParams;
    const pending = this.sessions.takeSignIn(this.cookie(x, "signin"));
    const state = q.get("state") ?? "";
    if (!pending || state === "" || !sameSecret(state, pending.state)) {
      return this.signInPage(x, { kind: "error", text: "this sign-in was not started here, or took too long; sign in again" }, 400);
    }
    const error = q.get("error");
    if (error !== null) {
      return this.signInPage(x, { kind: "error", text: `the identity platform did not sign you in (${error.slice(0, 64)}: ${(q.get("error_description") ?? "").split(/\r?\n/)[0].slice(0, 300)})` }, 401);
    }
    const code = q.get("code") ?? "";
    if (code === "" || code.length > 8192) return this.signInPage(x, { kind: "error", text: "the identity platform sent no authorization code; sign in again" }, 400);
    let token: string;
    try {
      token = await azure.redeem(code, `${x.origin}/console/auth/callback`, pending.verifier);
    } catch (err) {
      return this.signInPage(x, { kind: "error", text: describe(err).message }, 401);
    }
    const exp = Number(decodeJwt(token).claims.exp);
    return this.signIn(x, "azure", () => authenticate({ azure: verifier }, `Bearer ${token}`), Number.isFinite(exp) ? exp * 1000 : undefined, pending);
  }

  private signOut(x: Exchange): number {
    if (x.session) this.sessions.delete(x.session.id);
    x.session = undefined;
    this.setCookie(x, "session", "", 0);
    return this.redirect(x, "/console/");
  }

  // ---- Pages.

  private async policies(x: Exchange, caller: BrokerCaller): Promise<pages.RequestablePolicy[]> {
    return ((await this.broker.call(caller, x.peer, "GET", "/v1/policies")).body as { policies: pages.RequestablePolicy[] }).policies;
  }

  private async vms(x: Exchange, caller: BrokerCaller): Promise<number> {
    return this.page(x, 200, pages.vmsPage(this.frame(x), await this.policies(x, caller), this.notice(x)));
  }

  /** A fixed notice named in the query after a redirect (never text from the query itself). */
  private notice(x: Exchange): pages.Message | undefined {
    const grant = x.url.searchParams.get("grant") ?? "";
    const id = /^[A-Za-z0-9._-]{1,128}$/.test(grant) ? grant : "";
    const notices: Record<string, string> = {
      active: `Access granted (${id}).`,
      pending: `Requested (${id}); it waits for approval.`,
      revoked: `Access ${id} revoked.`,
      extended: `Access ${id} extended.`,
      approved: `You approved ${id}.`,
      denied: `You denied ${id}.`,
    };
    const done = x.url.searchParams.get("done") ?? "";
    return Object.hasOwn(notices, done) ? { kind: "notice", text: notices[done] } : undefined;
  }

  private async findVm(x: Exchange, caller: BrokerCaller, policyName: string, vmId: string) {
    const policy = (await this.policies(x, caller)).find((p) => p.name === policyName);
    const vm = policy?.virtualMachines.find((v) => v.id.toLowerCase() === vmId.toLowerCase());
    if (!policy || !vm) throw new Refusal(404, `you may not request access to that VM under policy "${policyName}"`);
    return { policy, vm };
  }

  private async requestForm(x: Exchange, caller: BrokerCaller): Promise<number> {
    const q = x.url.searchParams;
    const { policy, vm } = await this.findVm(x, caller, q.get("policy") ?? "", q.get("vm") ?? "");
    const max = Math.min(...vm.ports.map((p) => pages.minutesOf(p.maxRequestAccessDuration)));
    const form: pages.RequestForm = { ports: vm.ports.length === 1 ? [vm.ports[0].number] : [], minutes: Math.min(60, max), source: x.peer, justification: "" };
    return this.page(x, 200, pages.requestPage(this.frame(x), policy, vm, form));
  }

  private async request(x: Exchange, caller: BrokerCaller): Promise<number> {
    const raw = x.form ?? new URLSearchParams();
    const { policy, vm } = await this.findVm(x, caller, raw.get("policy") ?? "", raw.get("vm") ?? "");
    const kept: pages.RequestForm = {
      ports: raw.getAll("port").map(Number).filter(Number.isInteger),
      minutes: Number(raw.get("minutes")) || 0,
      source: (raw.get("source") ?? "").slice(0, 64),
      justification: (raw.get("justification") ?? "").slice(0, 1000),
    };
    try {
      const form = this.fields(x, Form.request, ["port"]);
      const body = {
        virtualMachines: [{ id: vm.id, ports: form.port.map((number) => ({ number, duration: `PT${form.minutes}M`, allowedSourceAddressPrefix: form.source })) }],
        ...(form.justification.trim() !== "" ? { justification: form.justification } : {}),
      };
      const grant = (await this.broker.call(caller, x.peer, "POST", `/v1/policies/${encodeURIComponent(policy.name)}/initiate`, body)).body as Grant;
      return this.redirect(x, `/console/grants?done=${grant.state === "awaiting-approval" ? "pending" : "active"}&grant=${encodeURIComponent(grant.id)}`);
    } catch (err) {
      const { status, message, field } = describe(err);
      return this.page(x, status, pages.requestPage(this.frame(x), policy, vm, kept, { kind: "error", text: message }, field));
    }
  }

  private async grants(x: Exchange, caller: BrokerCaller): Promise<number> {
    const all = x.url.searchParams.get("state") === "all";
    const { grants } = (await this.broker.call(caller, x.peer, "GET", `/v1/grants?state=${all ? "all" : "live"}`)).body as { grants: Grant[] };
    const id = caller.principal.id.toLowerCase();
    // Revoke is offered on one's own grants; a broker admin revokes others' through the API or the CLI.
    const mine = (g: Grant) => g.requester.toLowerCase() === id;
    return this.page(x, 200, pages.grantsPage(this.frame(x), grants, all, { extend: this.extend, mine }, this.notice(x)));
  }

  private async grantAction(x: Exchange, caller: BrokerCaller, id: string, action: "revoke" | "extend"): Promise<number> {
    if (action === "extend" && !this.extend) throw new Refusal(404, "this broker cannot extend access");
    const body = action === "extend" ? { duration: `PT${this.fields(x, Form.extend).minutes}M` } : (this.fields(x, Form.csrfOnly), {});
    await this.broker.call(caller, x.peer, "POST", `/v1/grants/${encodeURIComponent(id)}/${action}`, body);
    return this.redirect(x, `/console/grants?done=${action === "extend" ? "extended" : "revoked"}&grant=${encodeURIComponent(id)}`);
  }

  private async approvalsPage(x: Exchange, caller: BrokerCaller): Promise<number> {
    const { grants } = (await this.broker.call(caller, x.peer, "GET", "/v1/approvals")).body as { grants: Grant[] };
    return this.page(x, 200, pages.approvalsPage(this.frame(x), grants, this.notice(x)));
  }

  /** Where notifications' links lead: the request in the approvals inbox when it waits for this caller, else among their grants. */
  private async oneRequest(x: Exchange, caller: BrokerCaller, id: string): Promise<number> {
    if (this.approvals) {
      const { grants } = (await this.broker.call(caller, x.peer, "GET", "/v1/approvals")).body as { grants: Grant[] };
      const waiting = grants.filter((g) => g.id === id);
      if (waiting.length > 0) return this.page(x, 200, pages.approvalsPage(this.frame(x), waiting));
    }
    const grant = (await this.broker.call(caller, x.peer, "GET", `/v1/grants/${encodeURIComponent(id)}`)).body as Grant;
    const mine = (g: Grant) => g.requester.toLowerCase() === caller.principal.id.toLowerCase();
    return this.page(x, 200, pages.grantsPage(this.frame(x), [grant], true, { extend: this.extend, mine }));
  }

  private async approvalAction(x: Exchange, caller: BrokerCaller, id: string, action: "approve" | "deny"): Promise<number> {
    this.fields(x, Form.csrfOnly);
    try {
      await this.broker.call(caller, x.peer, "POST", `/v1/grants/${encodeURIComponent(id)}/${action}`, {});
    } catch (err) {
      const { status, message } = describe(err);
      const { grants } = (await this.broker.call(caller, x.peer, "GET", "/v1/approvals")).body as { grants: Grant[] };
      return this.page(x, status, pages.approvalsPage(this.frame(x), grants, { kind: "error", text: message }));
    }
    return this.redirect(x, `/console/approvals?done=${action === "approve" ? "approved" : "denied"}&grant=${encodeURIComponent(id)}`);
  }

  private async audit(x: Exchange, caller: BrokerCaller): Promise<number> {
    const q = x.url.searchParams;
    const search: pages.AuditSearch = { q: (q.get("q") ?? "").slice(0, 200), policy: (q.get("policy") ?? "").slice(0, 128), grant: (q.get("grant") ?? "").slice(0, 64) };
    const params = new URLSearchParams({ limit: "500", ...(search.policy ? { policy: search.policy } : {}), ...(search.grant ? { grant: search.grant } : {}) });
    try {
      const { events } = (await this.broker.call(caller, x.peer, "GET", `/v1/audit?${params.toString()}`)).body as { events: AuditEvent[] };
      return this.page(x, 200, pages.auditPage(this.frame(x), search, events.filter((e) => pages.auditMatches(e, search.q))));
    } catch (err) {
      const { status, message } = describe(err);
      return this.page(x, status, pages.auditPage(this.frame(x), search, undefined, { kind: "error", text: message }));
    }
  }
}

/** A page of this console to land on after sign-in; anything else (another site, a sign-in route) is ignored, so the parameter is no open redirect. */
function landing(next: string | null): string | undefined {
  if (next === null || next.length > 512) return undefined;
  return /^\/console\/(?!auth\/)[A-Za-z0-9._~\/?=&%+-]*$/.test(next) && !next.includes("//") ? next : undefined;
}

/** An error as the API would answer it: its status, its safe message, the field it names. */
function describe(err: unknown): { status: number; code: string; message: string; field?: string } {
  const { status, body } = toHttpError(err);
  return { status, code: body.error.code, message: body.error.message, ...(body.error.field ? { field: body.error.field } : {}) };
}
