import * as http from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import { CallLog } from "./calls";
import { FaultAction, FaultInjector } from "./faults";

/**
 * The HTTP(S) shell both emulators run in: it reads the request, lets the emulator name the
 * operation, applies injected faults, serves, and logs the call. Each emulator supplies only its
 * routing and its cloud's wire format.
 */
export interface EmulatorRequest {
  method: string;
  url: URL;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Route {
  operation: string;
  write: boolean;
  principal?: string;
  serve(): Promise<EmulatorResponse> | EmulatorResponse;
}

export type ErrorFault = Extract<FaultAction, { kind: "error" }>;

export interface EmulatorServerOptions {
  tls?: { key: string; cert: string };
  route(req: EmulatorRequest): Route;
  renderFault(fault: ErrorFault, req: EmulatorRequest): EmulatorResponse;
  /** Rendered when `route` or `serve` throws something that is not an emulator response. */
  renderInternalError(err: unknown, req: EmulatorRequest): EmulatorResponse;
  faults: FaultInjector;
  calls: CallLog;
}

export interface RunningServer {
  /** Base URL without a trailing slash, e.g. https://127.0.0.1:41234 */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** An emulator handler may throw a response to answer with it (validation errors, not-found, ...). */
export class ResponseError extends Error {
  constructor(readonly response: EmulatorResponse) {
    super(`emulator response ${response.status}`);
  }
}

export async function startEmulatorServer(opts: EmulatorServerOptions): Promise<RunningServer> {
  const sockets = new Set<Socket>();

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const scheme = opts.tls ? "https" : "http";
    const url = new URL(req.url ?? "/", `${scheme}://${req.headers.host ?? "127.0.0.1"}`);
    const ereq: EmulatorRequest = { method: (req.method ?? "GET").toUpperCase(), url, path: url.pathname, headers: req.headers, body };

    let route: Route;
    try {
      route = opts.route(ereq);
    } catch (err) {
      const out = err instanceof ResponseError ? err.response : opts.renderInternalError(err, ereq);
      opts.calls.record({ method: ereq.method, path: ereq.path, operation: "Unknown", write: false, status: out.status, faulted: false });
      send(res, out);
      return;
    }

    const log = (status: number, faulted: boolean) =>
      opts.calls.record({ method: ereq.method, path: ereq.path, operation: route.operation, write: route.write, status, faulted, principal: route.principal });

    if (opts.faults.latencyMs > 0) await sleep(opts.faults.latencyMs);
    let fault = opts.faults.take({ method: ereq.method, path: ereq.path, operation: route.operation });
    while (fault?.kind === "delay") {
      await sleep(fault.ms);
      fault = opts.faults.take({ method: ereq.method, path: ereq.path, operation: route.operation });
    }
    if (fault?.kind === "error") {
      const out = opts.renderFault(fault, ereq);
      log(out.status, true);
      send(res, out);
      return;
    }
    if (fault?.kind === "drop" && fault.after !== "after-apply") {
      log(0, true);
      req.socket.destroy();
      return;
    }

    let out: EmulatorResponse;
    try {
      out = await route.serve();
    } catch (err) {
      out = err instanceof ResponseError ? err.response : opts.renderInternalError(err, ereq);
    }
    if (fault?.kind === "drop") {
      log(0, true);
      req.socket.destroy();
      return;
    }
    log(out.status, false);
    send(res, out);
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handler(req, res).catch((err) => {
      if (!res.headersSent) send(res, { status: 500, body: String(err) });
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : http.createServer(listener);
  server.on(opts.tls ? "secureConnection" : "connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  // close() destroys every socket, so idle keep-alive sockets cannot hold it open. The hint must
  // stay well above 1 s: Node's clients keep a socket for the server's hint minus 1 s, so a 1 s
  // hint would make them reconnect (a new TLS handshake) for every request.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function send(res: http.ServerResponse, out: EmulatorResponse): void {
  res.statusCode = out.status;
  for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
  res.end(out.body ?? "");
}
