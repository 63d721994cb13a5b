import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { NotificationEvent, NotificationKind } from "../model/notification";
import { vmNameOf } from "../model/vm";

/** A sink's name: how /readyz and the outbox's delivery records call it. */
const SinkName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" });
const HttpsUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .max(2048, { error: "must be at most 2048 characters" })
  .refine((u) => new URL(u).protocol === "https:" || ["127.0.0.1", "localhost", "[::1]"].includes(new URL(u).hostname), { error: "must be https (plain http only to a loopback address)" });
/** The generic webhook's HMAC key: long enough that guessing it is not an option. */
const Secret = z.string().min(32, { error: "must be at least 32 characters" }).max(512);

/** Only these events go to the sink (default: all). */
const Events = z.array(NotificationKind).min(1, { error: "must list at least one event; leave it out for all" }).optional();

/** Where notifications go. The URLs of Slack and Teams webhooks are secrets too: whoever has one may post. */
export const SinkConfig = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("slack"), name: SinkName, url: HttpsUrl, events: Events }),
  z.strictObject({ kind: z.literal("teams"), name: SinkName, url: HttpsUrl, events: Events }),
  z.strictObject({ kind: z.literal("webhook"), name: SinkName, url: HttpsUrl, secret: Secret, events: Events }),
]);
export type SinkConfig = z.output<typeof SinkConfig>;

export interface Rendered {
  body: string;
  headers: Record<string, string>;
}

const TITLES: Record<NotificationKind, string> = {
  requested: "Access requested",
  "pending-approval": "Approval needed",
  approved: "Access approved",
  denied: "Access denied",
  granted: "Access granted",
  "break-glass": "BREAK-GLASS access",
  extended: "Access extended",
  expiring: "Access expiring soon",
  expired: "Access expired",
  revoked: "Access revoked",
  failed: "Access failed",
};

/** The one-line summary every sink shows: what happened, to whom, for what. */
export function summary(event: NotificationEvent): string {
  const g = event.grant;
  const ports = g.ports.map((p) => `${vmNameOf(p.vm)}:${p.number} from ${p.source}`).join(", ");
  const approval = event.kind === "pending-approval" && g.approval ? `; needs ${g.approval.required} approval(s) by ${g.approval.expiresAt}` : "";
  const why = g.justification ? ` (${g.justification})` : "";
  const by = event.actor && event.actor !== g.requester ? ` by ${event.actor}` : "";
  const detail = event.detail ? ` - ${event.detail}` : "";
  return `${TITLES[event.kind]}${by}: ${g.requester} on policy ${g.policy}, ${ports} until ${g.endTimeUtc}${why}${approval}${detail} [grant ${g.id}]`;
}

/** Where a person decides or looks: the console's page for the request. */
export function requestLink(consoleUrl: string | undefined, grantId: string): string | undefined {
  return consoleUrl === undefined ? undefined : `${consoleUrl.replace(/\/+$/, "")}/requests/${encodeURIComponent(grantId)}`;
}

/** Slack's `mrkdwn` treats these three as markup; everything a person typed is escaped. */
function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * The HMAC-SHA256 a generic webhook's receiver checks: over `<timestamp>.<body>` with the shared
 * secret, hex, as `x-jit-signature: sha256=<hex>` beside `x-jit-timestamp` (seconds since the
 * epoch). A receiver refuses a stale timestamp, so a captured delivery cannot be replayed later.
 */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** For receivers (and tests): a signature check in constant time, with the timestamp no older than `toleranceS`. */
export function verifySignature(secret: string, headers: { timestamp?: string; signature?: string }, body: string, nowS: number, toleranceS = 300): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS || headers.signature === undefined) return false;
  const expected = Buffer.from(signature(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The request a sink gets for an event. */
export function render(sink: SinkConfig, event: NotificationEvent, options: { consoleUrl?: string; nowMs: number }): Rendered {
  const link = requestLink(options.consoleUrl, event.grant.id);
  const action = event.kind === "pending-approval" ? "Approve or deny" : "Open";
  const text = summary(event);
  const json = { "content-type": "application/json" };
  switch (sink.kind) {
    case "slack":
      return { headers: json, body: JSON.stringify({ text: `${slackEscape(text)}${link ? ` <${link}|${action}>` : ""}` }) };
    case "teams":
      // A Teams "workflow" (Power Automate) webhook posts the Adaptive Card it is sent.
      return {
        headers: json,
        body: JSON.stringify({
          type: "message",
          attachments: [
            {
              contentType: "application/vnd.microsoft.card.adaptive",
              content: {
                $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
                type: "AdaptiveCard",
                version: "1.4",
                body: [
                  { type: "TextBlock", text: TITLES[event.kind], weight: "Bolder", size: "Medium", wrap: true },
                  { type: "TextBlock", text, wrap: true },
                ],
                ...(link ? { actions: [{ type: "Action.OpenUrl", title: action, url: link }] } : {}),
              },
            },
          ],
        }),
      };
    case "webhook": {
      const body = JSON.stringify({ ...event, summary: text, ...(link ? { link } : {}) });
      const timestamp = Math.floor(options.nowMs / 1000);
      return { body, headers: { ...json, "x-jit-event": event.kind, "x-jit-event-id": event.id, "x-jit-timestamp": String(timestamp), "x-jit-signature": signature(sink.secret, timestamp, body) } };
    }
  }
}
