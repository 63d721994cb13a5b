import type { HttpClient, Pipeline, PipelineResponse } from "@azure/core-rest-pipeline";
import type { Progress } from "../driver";
import { JitError } from "../model";
import type { ResolvedConnection } from "./connection";
import { armError, cloudError, isLostRace } from "./errors";
import { shortName } from "./ids";

/**
 * What the NSG and firewall writers share: how a long-running write is started and awaited, and
 * what happens after a write lost a race with another writer.
 */

/** What the SDKs' long-running calls return: awaitable, and reporting each poll. */
export type LongRunning<T> = PromiseLike<T> & { onProgress(callback: (state: { status: string }) => void): unknown };

/** Options of a long-running write: the connection's poll interval, and these headers on the write only. */
export function writeOptions(connection: ResolvedConnection, headers: Record<string, string>) {
  const interval = connection.pollIntervalMs;
  return { ...(interval === undefined ? {} : { updateIntervalInMs: interval }), requestOptions: { headers } };
}

/** Waits for a long-running write, saying so once if it does not finish at the first poll. */
export async function finish<T>(poller: LongRunning<T>, what: string, progress: Progress): Promise<T> {
  let said = false;
  poller.onProgress((state) => {
    if (!said && state.status === "running") {
      said = true;
      progress(`waiting for Azure: ${what}`);
    }
  });
  return poller;
}

/** What a write's first answer carries that its long-running operation is followed by. */
export interface Accepted {
  status: number;
  headers: { get(name: string): string | undefined };
}

let httpClient: Promise<HttpClient> | undefined;

/**
 * Waits for the operation a write started, by polling its `Azure-AsyncOperation` (or `Location`)
 * URL through the client's own pipeline (sign-in, retries, TLS, the connection's policies) and
 * nothing else. The SDK's poller would also GET the resource once the operation succeeded; the
 * write's own answer already carries the resource as written and its new ETag, so that read is
 * skipped. The first poll waits for ARM's `Retry-After` (NRP says 10 s, and an immediate poll only
 * answers `InProgress`), later ones for it or the connection's poll interval. An operation that
 * ends `Failed` or `Canceled` throws what the SDK's poller throws, so that `isLostRace` and
 * `cloudError` read it alike.
 */
export async function awaitOperation(pipeline: Pipeline, accepted: Accepted, connection: ResolvedConnection, what: string, progress: Progress): Promise<void> {
  const asyncUrl = accepted.headers.get("azure-asyncoperation") ?? accepted.headers.get("operation-location");
  const url = asyncUrl ?? (accepted.status === 202 ? accepted.headers.get("location") : undefined);
  if (url === undefined) return;
  const { createDefaultHttpClient, createPipelineRequest, RestError } = await import("@azure/core-rest-pipeline");
  httpClient ??= Promise.resolve(createDefaultHttpClient());
  let last: { headers: Accepted["headers"] } = accepted;
  for (let polls = 0; ; polls++) {
    const suggested = retryAfterMs(last.headers);
    const wait = suggested > 0 ? suggested : polls === 0 ? 0 : (connection.pollIntervalMs ?? 2000);
    if (wait > 0) await connection.clock.sleep(wait);
    const response: PipelineResponse = await pipeline.sendRequest(await httpClient, createPipelineRequest({ url, method: "GET" }));
    last = response;
    const body = parseBody(response.bodyAsText);
    if (response.status >= 400) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new RestError(error?.message ?? `HTTP ${response.status}`, { statusCode: response.status, ...(error?.code ? { code: error.code } : {}), response });
    }
    const status = asyncUrl === undefined ? (response.status === 202 ? "InProgress" : "Succeeded") : String((body as { status?: unknown } | undefined)?.status ?? "");
    if (/^succeeded$/i.test(status)) return;
    if (/^(failed|canceled|cancelled)$/i.test(status)) {
      const error = (body as { error?: { code?: string; message?: string } }).error;
      // What core-lro throws for a cancelled operation: NRP cancels a write only when another superseded it.
      if (/^cancel/i.test(status)) throw new Error("Operation was canceled.");
      throw new Error(`The long-running operation has failed. ${error?.code ?? status}. ${error?.message ?? ""}`.trim());
    }
    if (polls === 0) progress(`waiting for Azure: ${what}`);
  }
}

function retryAfterMs(headers: Accepted["headers"]): number {
  const ms = Number(headers.get("retry-after-ms") ?? headers.get("x-ms-retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

function parseBody(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Where a write stands after losing races: how many, and since when (on the connection's clock). */
export interface RaceState {
  lost: number;
  since: number;
}

export type RaceDecision = { retry: true; state: RaceState; waitMs: number; why: string } | { retry: false; why: string };

/** Another operation holds the resource: waiting helps, however long it takes (a firewall update takes minutes). */
function isBusy(err: unknown): boolean {
  const { status, code } = armError(err);
  return status === 429 || code === "AnotherOperationInProgress" || code === "RetryableError";
}

/**
 * What to do after a write lost a race (state in, state out; `random` in [0, 1) for the jitter):
 * retry after half the doubling delay plus up to as much again at random, so that racing writers
 * spread out; give up once `conflictRetries` are spent, except that a resource another operation
 * holds is waited for until `busyWaitMs` have passed since the first loss.
 */
export function afterRace(
  state: RaceState | undefined,
  err: unknown,
  now: number,
  policy: Pick<ResolvedConnection, "conflictRetries" | "backoffMs" | "busyWaitMs">,
  random: number,
): RaceDecision {
  const { status, code } = armError(err);
  const why = [status, code ?? (isLostRace(err) && status === undefined ? "superseded" : undefined)].filter((x) => x !== undefined).join(" ");
  const next: RaceState = { lost: (state?.lost ?? 0) + 1, since: state?.since ?? now };
  const waited = now - next.since;
  if (next.lost > policy.conflictRetries && !(isBusy(err) && waited < policy.busyWaitMs)) return { retry: false, why };
  const full = Math.min(policy.backoffMs * 2 ** (Math.min(next.lost, 20) - 1), 30_000);
  return { retry: true, state: next, waitMs: Math.round(full / 2 + (random * full) / 2), why };
}

/** One step of an optimistic write: finished with a result, or carry on from the resource as it now is. */
export type Step<S, R> = { done: R } | { next: S };

/**
 * The read-plan-write loop both writers share. `step` plans from the resource as last read and
 * makes (at most) one write; when that write loses a race (see `isLostRace` and `afterRace`), the
 * resource is read again after the wait and planned again; any other error is the caller's, as a
 * `cloudError` saying what was being `doing`.
 */
export async function optimistic<S, R>(spec: {
  kind: "NSG" | "Azure Firewall";
  id: string;
  first: S;
  read: () => Promise<S>;
  step: (current: S) => Promise<Step<S, R>>;
  doing: (current: S) => string;
  connection: ResolvedConnection;
  progress: Progress;
}): Promise<R> {
  const { connection, progress } = spec;
  let current = spec.first;
  let race: RaceState | undefined;
  for (;;) {
    try {
      const result = await spec.step(current);
      if ("done" in result) return result.done;
      current = result.next;
      continue;
    } catch (err) {
      if (!isLostRace(err)) throw cloudError(err, spec.doing(current));
      const decision = afterRace(race, err, connection.clock.now(), connection, Math.random());
      if (!decision.retry) {
        throw new JitError("Conflict", `${spec.kind} ${spec.id} kept changing under us (${decision.why}); gave up after ${(race?.lost ?? 0) + 1} attempts`, { cause: err });
      }
      race = decision.state;
      progress(`${spec.kind} ${shortName(spec.id)} changed or was busy (${decision.why}); reading it again and retrying in ${decision.waitMs} ms`);
      await connection.clock.sleep(decision.waitMs);
    }
    current = await spec.read();
  }
}
