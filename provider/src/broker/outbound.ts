import * as http from "node:http";
import * as https from "node:https";
import { rootCertificates } from "node:tls";

/**
 * The broker's own calls out (OIDC discovery, JWKS, STS): HTTPS (or plain HTTP to loopback only,
 * for local endpoints), never following redirects, with a deadline and a cap on the answer, so a
 * slow or hostile endpoint cannot hold the broker or fill its memory.
 */
export interface OutboundOptions {
  /** Extra CA certificates (PEM) to trust, for private or local endpoints. */
  ca?: string;
  timeoutMs?: number;
  maxBytes?: number;
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Outbound = (url: string, init: { method: "GET" | "POST"; headers?: Record<string, string>; body?: string }) => Promise<OutboundResponse>;

export function outbound(options: OutboundOptions = {}): Outbound {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const loopback = target.hostname === "127.0.0.1" || target.hostname === "localhost" || target.hostname === "[::1]";
      if (target.protocol !== "https:" && !(target.protocol === "http:" && loopback)) {
        reject(new Error(`refusing to call ${target.origin}: HTTPS only`));
        return;
      }
      const lib = target.protocol === "https:" ? https : http;
      const req = lib.request(
        target,
        {
          method: init.method,
          headers: init.headers,
          timeout: timeoutMs,
          ...(target.protocol === "https:" && options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy(new Error(`${target.origin} answered more than ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${target.origin} did not answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(init.body);
    });
}

/** GETs a JSON object; anything else (status, shape) is an error naming the URL. */
export async function getJson(call: Outbound, url: string): Promise<Record<string, unknown>> {
  const res = await call(url, { method: "GET", headers: { accept: "application/json" } });
  if (res.status !== 200) throw new Error(`${url} answered HTTP ${res.status}`);
  const value: unknown = JSON.parse(res.body);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${url} did not answer a JSON object`);
  return value as Record<string, unknown>;
}
