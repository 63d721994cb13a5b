import { z } from "zod";
import type { Principal } from "../../driver";
import type { Outbound } from "../outbound";
import { refuse } from "./errors";

/**
 * AWS callers prove who they are the way HashiCorp Vault's IAM auth has them do it: the caller signs
 * (SigV4, with its own credentials) an STS `GetCallerIdentity` request that it does not send; it
 * sends the signed request to the broker, which checks it and forwards it to STS unchanged. STS
 * verifies the signature and answers with the caller's ARN; the broker never sees a secret.
 *
 * What stops misuse of such a request:
 * - it must sign the header `x-jit-broker-id` equal to this broker's id, so a request made for
 *   another service (or another broker) is refused, and cannot be replayed here;
 * - its `X-Amz-Date` must be within the freshness window (STS itself accepts 15 minutes);
 * - it may only go to an STS endpoint configured here, never to a host the caller names;
 * - the body must be exactly GetCallerIdentity, so the broker cannot be made to run anything else.
 */
export const BROKER_ID_HEADER = "x-jit-broker-id";
export const GET_CALLER_IDENTITY_BODY = "Action=GetCallerIdentity&Version=2011-06-15";

export const SignedStsRequest = z.strictObject({
  method: z.literal("POST"),
  url: z.string().max(512),
  headers: z.record(z.string().max(64), z.string().max(4096)).refine((h) => Object.keys(h).length <= 32, { error: "at most 32 headers" }),
  body: z.string().max(256),
});
export type SignedStsRequest = z.output<typeof SignedStsRequest>;

export interface AwsVerifierOptions {
  /** This broker's id, which callers sign into `x-jit-broker-id`. */
  brokerId: string;
  /** The STS endpoints signed requests may go to (e.g. https://sts.eu-west-1.amazonaws.com/). */
  stsEndpoints: readonly string[];
  /** How old (or how far ahead) a signed request may be. Default 5 minutes. */
  windowMs?: number;
  /** The region clients sign for (default: read from the first endpoint's host name). */
  region?: string;
  fetch: Outbound;
  now?: () => number;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=([^/,\s]{1,128})\/(\d{8})\/([a-z0-9-]{1,32})\/sts\/aws4_request, ?SignedHeaders=([a-z0-9;-]{1,1024}), ?Signature=[0-9a-f]{64}$/;

export class AwsStsVerifier {
  private readonly endpoints: Set<string>;
  /** Requests forwarded to STS, for the record (tests count them). */
  forwarded = 0;

  constructor(private readonly options: AwsVerifierOptions) {
    this.endpoints = new Set(options.stsEndpoints.map((e) => new URL(e).href));
  }

  /** Decodes the `JIT-AWS-STS` credential: base64url of the signed request as JSON. */
  static decode(credential: string): SignedStsRequest {
    if (credential.length > 16 * 1024) refuse("the signed request is too long");
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(credential, "base64url").toString("utf8"));
    } catch {
      refuse("the signed request is not base64url-encoded JSON");
    }
    const parsed = SignedStsRequest.safeParse(json);
    if (!parsed.success) refuse(`the signed request is malformed: ${parsed.error.issues[0].message} at ${parsed.error.issues[0].path.join(".") || "top level"}`);
    return parsed.data;
  }

  get brokerId(): string {
    return this.options.brokerId;
  }

  /** The endpoint clients should sign for, and its signing region (sts.amazonaws.com signs for us-east-1). */
  get stsEndpoint(): string {
    return [...this.endpoints][0];
  }

  get stsRegion(): string {
    return this.options.region ?? /^sts\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(this.stsEndpoint).hostname)?.[1] ?? "us-east-1";
  }

  async verify(request: SignedStsRequest): Promise<{ principal: Principal; arn: string }> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refuse("the signed request's URL is not a URL");
    }
    if (!this.endpoints.has(url.href)) refuse(`the signed request is for ${url.origin}, which is not an STS endpoint this broker trusts`);
    const params = new URLSearchParams(request.body);
    if (request.body !== GET_CALLER_IDENTITY_BODY && !(params.size === 2 && params.get("Action") === "GetCallerIdentity" && params.get("Version") === "2011-06-15")) {
      refuse("the signed request is not STS GetCallerIdentity");
    }
    const headers = new Map(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const auth = SIGV4.exec(headers.get("authorization") ?? "");
    if (!auth) refuse("the signed request carries no SigV4 signature for STS");
    const signed = new Set(auth[4].split(";"));
    for (const name of ["host", "x-amz-date", BROKER_ID_HEADER]) if (!signed.has(name)) refuse(`the signed request does not sign ${name}`);
    if (headers.get(BROKER_ID_HEADER) !== this.options.brokerId) refuse("the signed request was made for another service (x-jit-broker-id)");
    if (headers.get("host") !== url.host) refuse("the signed request's host header is not its URL's host");
    const date = AMZ_DATE.exec(headers.get("x-amz-date") ?? "");
    if (!date) refuse("the signed request has no X-Amz-Date");
    const signedAt = Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]);
    const now = (this.options.now ?? Date.now)();
    if (Math.abs(now - signedAt) > (this.options.windowMs ?? 5 * 60_000)) refuse("the signed request is too old (or from the future): sign a new one");

    this.forwarded++;
    const forward = Object.fromEntries([...headers].filter(([k]) => !["content-length", "connection", "transfer-encoding", "expect"].includes(k)));
    let answer;
    try {
      answer = await this.options.fetch(url.href, { method: "POST", headers: forward, body: request.body });
    } catch (err) {
      return refuse(`STS could not be asked: ${(err as Error).message}`);
    }
    if (answer.status !== 200) {
      const code = /<Code>([A-Za-z.]{1,64})<\/Code>/.exec(answer.body)?.[1] ?? `HTTP ${answer.status}`;
      refuse(`STS refused the signed request (${code})`);
    }
    const arn = /<Arn>(arn:[^<]{1,2048})<\/Arn>/.exec(answer.body)?.[1];
    if (!arn) refuse("STS answered without an ARN");
    return { principal: principalOfArn(arn), arn };
  }
}

const SESSION = /^arn:[^:]+:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/;

/** The caller as STS named it; a role session keeps its session ARN as id and its session name as name. */
export function principalOfArn(arn: string): Principal {
  return { id: arn, name: SESSION.exec(arn)?.[1] ?? arn.slice(arn.lastIndexOf("/") + 1) };
}
