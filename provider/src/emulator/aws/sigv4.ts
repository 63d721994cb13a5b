import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { EmulatorRequest } from "../common";

/**
 * AWS Signature Version 4, as the services check it: the `Authorization` header names the access
 * key, the credential scope (`date/region/service/aws4_request`), the signed headers and the
 * signature; the service rebuilds the canonical request from what arrived, derives the signing key
 * from the secret and compares. A request is also refused when its `X-Amz-Date` is more than 15
 * minutes away from the service's clock. Query-string (presigned) authentication is not accepted.
 */
export interface SignedScope {
  accessKeyId: string;
  /** `YYYYMMDD`. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

/** At most this much of an Authorization header is read: real ones are a few hundred characters. */
const MAX_AUTHORIZATION = 4096;

export function parseAuthorization(header: unknown): SignedScope | undefined {
  if (typeof header !== "string" || header.length > MAX_AUTHORIZATION) return undefined;
  const m = AUTHORIZATION.exec(header);
  if (!m) return undefined;
  return { accessKeyId: m[1], date: m[2], region: m[3], service: m[4], signedHeaders: m[5].split(";"), signature: m[6] };
}

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data).digest();

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves `!'()*` alone). */
const escape = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The path with `.` and `..` segments resolved, each segment encoded (again: non-S3 services double-encode). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const normalised = `/${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return escape(normalised).replace(/%2F/g, "/");
}

function canonicalQuery(url: URL): string {
  return [...url.searchParams.entries()]
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [escape(k), escape(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function headerValue(req: EmulatorRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v.join(",") : String(v)).trim().replace(/\s+/g, " ");
}

/** `X-Amz-Date` (or `Date`) of the request, in ms since the epoch; undefined when absent or malformed. */
export function requestTime(req: EmulatorRequest): { amzDate: string; ms: number } | undefined {
  const amzDate = headerValue(req, "x-amz-date");
  if (amzDate !== undefined) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    return m ? { amzDate, ms: Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) } : undefined;
  }
  const date = headerValue(req, "date");
  const ms = date === undefined ? NaN : Date.parse(date);
  return Number.isNaN(ms) ? undefined : { amzDate: new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, ""), ms };
}

export function canonicalRequest(req: EmulatorRequest, scope: SignedScope): string {
  const headers = [...scope.signedHeaders].sort().map((name) => `${name}:${headerValue(req, name) ?? ""}\n`);
  // The service hashes the body it received; an `x-amz-content-sha256` header cannot vouch for another one.
  const payload = sha256(req.body);
  return [req.method, canonicalPath(req.url.pathname), canonicalQuery(req.url), headers.join(""), [...scope.signedHeaders].sort().join(";"), payload].join("\n");
}

/** Why a signature does not verify (undefined when it does): the services' reasons, worded as they word them. */
export function checkSignature(req: EmulatorRequest, scope: SignedScope, secretAccessKey: string, amzDate: string): string | undefined {
  if (!scope.signedHeaders.includes("host")) return "'Host' must be a 'SignedHeader' in the AWS Authorization.";
  if (amzDate.slice(0, 8) !== scope.date) return `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`;
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, credentialScope, sha256(canonicalRequest(req, scope))].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, scope.date), scope.region), scope.service), "aws4_request");
  const expected = Buffer.from(hmac(key, stringToSign).toString("hex"));
  const given = Buffer.from(scope.signature);
  if (expected.length === given.length && timingSafeEqual(expected, given)) return undefined;
  return "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
}

/** How far a request's time may be from the service's clock. */
export const MAX_SKEW_MS = 15 * 60_000;

const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");

/** STS's wording of a request outside the window (EC2 says only `Request has expired.`). */
export function expiredMessage(amzDate: string, requestMs: number, nowMs: number): string {
  return requestMs < nowMs
    ? `Signature expired: ${amzDate} is now earlier than ${compact(nowMs - MAX_SKEW_MS)} (${compact(nowMs)} - 15 min.)`
    : `Signature not yet current: ${amzDate} is still later than ${compact(nowMs + MAX_SKEW_MS)} (${compact(nowMs)} + 15 min.)`;
}
