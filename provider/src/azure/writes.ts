import type { Progress } from "../driver";
import { JitError } from "../model";
import type { ResolvedConnection } from "./connection";
import { armError } from "./errors";
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

/**
 * After the `lost`th write to the `kind` `id` lost a race: `Conflict` once `conflictRetries` are
 * spent; otherwise says so and waits half the doubling delay plus up to as much again at random, so
 * that racing writers spread out. The caller then reads the resource again and plans again.
 */
export async function afterLostRace(err: unknown, lost: number, kind: "NSG" | "Azure Firewall", id: string, connection: ResolvedConnection, progress: Progress): Promise<void> {
  const { status, code } = armError(err);
  const why = [status, code].filter((x) => x !== undefined).join(" ");
  if (lost > connection.conflictRetries) {
    throw new JitError("Conflict", `${kind} ${id} kept changing under us (${why}); gave up after ${lost} attempts`, { cause: err });
  }
  const full = Math.min(connection.backoffMs * 2 ** (lost - 1), 30_000);
  const wait = Math.round(full / 2 + (Math.random() * full) / 2);
  progress(`${kind} ${shortName(id)} changed or was busy (${why}); reading it again and retrying in ${wait} ms`);
  await new Promise((resolve) => setTimeout(resolve, wait));
}
