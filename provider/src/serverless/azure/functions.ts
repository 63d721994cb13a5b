import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from "@azure/functions";
import { SweepReport, expireGrantWith, parseExpiryEvent, sweepWith } from "../../access";
import { Broker, BrokerResponse, jsonBody } from "../../broker";
import { HttpError, toHttpError } from "../../broker/errors";
import { brokerFor, lazyValue, openServerlessContext, readEnv } from "../config";
import { QueueExpiryScheduler, openExpiryQueue } from "./queue";
import { errorMessage } from "../../model/errors";

/**
 * The Azure Functions handlers (v4 programming model), thin over the same use cases as `jit serve`
 * and `jit sweep`: the broker over HTTP, the safety-net sweep on a timer, and per-grant expiry
 * from the queue whose messages become visible at each grant's end. `index.ts` registers them.
 *
 * Settings: those of `readEnv`, plus JIT_EXPIRY_QUEUE (where requests schedule expiry).
 */
const env = lazyValue(async () => readEnv());

const context = lazyValue(async () => {
  const location = process.env.JIT_EXPIRY_QUEUE;
  const expiry = location ? new QueueExpiryScheduler(await openExpiryQueue(location)) : undefined;
  return openServerlessContext(await env(), expiry);
});

const broker = lazyValue(async (): Promise<Broker> => brokerFor(await context(), await env()));

export async function httpHandler(request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  let answer: BrokerResponse;
  try {
    const b = await broker();
    const url = new URL(request.url);
    answer = await b.dispatch({
      method: request.method.toUpperCase(),
      url: url.pathname + url.search,
      authorization: request.headers.get("authorization") ?? undefined,
      peer: clientAddress(request.headers.get("x-forwarded-for")),
      body: async () => {
        const max = b.limits.maxBodyBytes;
        if (Number(request.headers.get("content-length") ?? 0) > max) throw new HttpError(413, "PayloadTooLarge", `the body is larger than ${max} bytes`);
        return jsonBody(Buffer.from(await request.arrayBuffer()), request.headers.get("content-type") ?? undefined, max);
      },
    });
  } catch (err) {
    // Only the broker's set-up can fail here (a setting, the ledger); dispatch itself never throws.
    answer = toHttpError(err);
    _context.error(`pulumi-jit: ${errorMessage(err)}`);
  }
  return {
    status: answer.status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...answer.headers },
    body: JSON.stringify(answer.body),
  };
}

/**
 * The caller's address: the last entry of X-Forwarded-For, the one Azure's front end appended
 * (entries before it come from the client and prove nothing), without its port.
 */
export function clientAddress(forwarded: string | null): string {
  const last = (forwarded ?? "").split(",").pop()?.trim() ?? "";
  if (last === "") return "unknown";
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(last);
  if (bracketed) return bracketed[1];
  return /^[^:]+:\d+$/.test(last) ? last.slice(0, last.lastIndexOf(":")) : last;
}

export async function sweepHandler(_timer: Timer, invocation: InvocationContext): Promise<SweepReport> {
  const report = await sweepWith(await context());
  const line = `pulumi-jit sweep: ${JSON.stringify(report)}`;
  if (report.failed.length) invocation.error(line);
  else invocation.log(line);
  return report;
}

/** A queue message (the host hands over parsed JSON, or the text when it is not JSON). */
export async function expireHandler(message: unknown, invocation: InvocationContext): Promise<string | undefined> {
  const event = parseExpiryEvent(typeof message === "string" ? parseJson(message) : message);
  const ended = await expireGrantWith(await context(), event);
  invocation.log(`pulumi-jit expiry of grant ${event.grantId}: ${ended ?? "nothing to do"}`);
  return ended;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
