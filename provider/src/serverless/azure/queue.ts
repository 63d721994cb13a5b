import { QueueClient } from "@azure/storage-queue";
import type { ExpiryEvent, ExpiryScheduler } from "../../access";
import { JitError } from "../../model";

/** The longest a Storage queue message may stay hidden (7 days), which covers the longest grant (P1D). */
export const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600;

/**
 * Exact-time expiry on Azure: a Storage queue message carrying the expiry event, hidden until the
 * end of the grant's ports (visibility timeout = seconds to the end, rounded up, so never early)
 * and kept until read (no time-to-live), which a queue-triggered function receives as it appears.
 * The message is base64-encoded JSON, the Functions host's default queue encoding.
 */
export class QueueExpiryScheduler implements ExpiryScheduler {
  constructor(
    private readonly queue: QueueClient,
    private readonly now: () => number = Date.now,
  ) {}

  async schedule(event: ExpiryEvent, at: Date): Promise<void> {
    const seconds = Math.max(0, Math.ceil((at.getTime() - this.now()) / 1000));
    if (seconds > MAX_VISIBILITY_SECONDS) {
      throw new JitError("InvalidInput", `a queue message can be hidden for at most 7 days, and this expiry is ${seconds} s away`, { field: "endTimeUtc" });
    }
    await this.queue.sendMessage(Buffer.from(JSON.stringify(event), "utf8").toString("base64"), { visibilityTimeout: seconds, messageTimeToLive: -1 });
  }
}

/**
 * The queue named by `JIT_EXPIRY_QUEUE`, in the forms of the ledger's Azure Table URLs:
 * `https://<account>.queue.core.windows.net/<queue>` (signed in with DefaultAzureCredential, the
 * function's managed identity) or `azurequeue://<queue>` (account from AZURE_STORAGE_CONNECTION_STRING).
 */
export async function openExpiryQueue(location: string, env: NodeJS.ProcessEnv = process.env): Promise<QueueClient> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new JitError("InvalidInput", `"${location.slice(0, 200)}" is not a queue URL (https://<account>.queue.core.windows.net/<queue> or azurequeue://<queue>)`, { field: "JIT_EXPIRY_QUEUE" });
  }
  const name = url.protocol === "azurequeue:" ? url.hostname : url.pathname.replace(/^\/+|\/+$/g, "");
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    throw new JitError("InvalidInput", `"${name}" is not a queue name (3-63 lower-case letters, digits and single hyphens)`, { field: "JIT_EXPIRY_QUEUE" });
  }
  if (url.protocol === "azurequeue:") {
    const connectionString = env.AZURE_STORAGE_CONNECTION_STRING;
    if (!connectionString) throw new JitError("InvalidInput", "set AZURE_STORAGE_CONNECTION_STRING for an azurequeue:// expiry queue", { field: "JIT_EXPIRY_QUEUE" });
    return new QueueClient(connectionString, name);
  }
  if (url.protocol !== "https:" || !/\.queue\./i.test(url.hostname)) {
    throw new JitError("InvalidInput", "the expiry queue must be https://<account>.queue.core.windows.net/<queue> or azurequeue://<queue>", { field: "JIT_EXPIRY_QUEUE" });
  }
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new QueueClient(`${url.origin}/${name}`, new DefaultAzureCredential());
}
