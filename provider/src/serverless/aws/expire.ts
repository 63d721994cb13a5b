import { expireGrantWith, parseExpiryEvent } from "../../access";
import { awsContext } from "./runtime";

/**
 * A grant's exact-time expiry: an EventBridge Scheduler one-time schedule invokes this with the
 * expiry event as input at the end of the grant's ports. A malformed event is refused (and
 * changes nothing); a failure throws, so the scheduler retries and the sweep remains behind it.
 */
export async function handler(event: unknown): Promise<{ grantId: string; ended: string | null }> {
  const expiry = parseExpiryEvent(event);
  const ended = await expireGrantWith(await awsContext(), expiry);
  process.stdout.write(`${JSON.stringify({ level: "info", expiry: expiry.grantId, ended: ended ?? null })}\n`);
  return { grantId: expiry.grantId, ended: ended ?? null };
}
