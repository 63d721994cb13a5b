import { z } from "zod";
import { Grant, GrantId, GrantState } from "./grant";
import { idSchema, randomId } from "./ids";
import { Protocol } from "./protocol";
import { machineText, userText } from "./redact";
import { MAX_JUSTIFICATION_LENGTH } from "./request";
import { UtcInstant, epochMs, utc } from "./time";
import { parseOrThrow } from "./validate";
import { Cloud, VmId } from "./vm";

/** What people are told about: each step of a grant's life. */
export const NotificationKind = z.enum(["requested", "pending-approval", "approved", "denied", "granted", "break-glass", "extended", "expiring", "expired", "revoked", "failed"]);
export type NotificationKind = z.infer<typeof NotificationKind>;

const NOTIFICATION_ID_LENGTH = 16;

/**
 * One event as the sinks receive it: a summary of the grant at that moment (never its cloud
 * changes), who caused it, and any detail. The id lets a receiver drop a redelivery: delivery is
 * at least once, because a sink may answer after the broker stopped waiting.
 */
export const NotificationEvent = z.strictObject({
  id: idSchema(NOTIFICATION_ID_LENGTH),
  kind: NotificationKind,
  time: UtcInstant,
  actor: z.string().min(1).max(512).optional(),
  detail: machineText(2000).optional(),
  grant: z.strictObject({
    id: GrantId,
    policy: z.string().min(1),
    cloud: Cloud,
    requester: z.string().min(1),
    state: GrantState,
    justification: userText(MAX_JUSTIFICATION_LENGTH).optional(),
    endTimeUtc: UtcInstant,
    breakGlass: z.literal(true).optional(),
    ports: z.array(z.strictObject({ vm: VmId, number: z.number().int(), protocol: Protocol, source: z.string(), endTimeUtc: UtcInstant })),
    approval: z.strictObject({ required: z.number().int(), approvedBy: z.array(z.string()), expiresAt: UtcInstant }).optional(),
  }),
});
export type NotificationEvent = z.output<typeof NotificationEvent>;

export function parseNotification(input: unknown): NotificationEvent {
  return parseOrThrow(NotificationEvent, input, "notification");
}

export function newNotification(kind: NotificationKind, grant: Grant, options: { actor?: string; detail?: string; time?: Date | number } = {}): NotificationEvent {
  const approvedBy = [...new Set((grant.approval?.votes ?? []).filter((v) => v.decision === "approve").map((v) => v.name ?? v.approver))];
  return parseNotification({
      id: randomId(NOTIFICATION_ID_LENGTH),
      kind,
      time: utc(options.time ?? Date.now()),
      ...(options.actor ? { actor: options.actor } : {}),
      ...(options.detail ? { detail: options.detail } : {}),
      grant: {
        id: grant.id,
        policy: grant.policy,
        cloud: grant.cloud,
        requester: grant.requester,
        state: grant.state,
        ...(grant.justification ? { justification: grant.justification } : {}),
        endTimeUtc: grant.endTimeUtc,
        ...(grant.breakGlass ? { breakGlass: true } : {}),
        ports: grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => ({ vm: vm.id, number: p.number, protocol: p.protocol, source: p.sourceAddressPrefix, endTimeUtc: p.endTimeUtc }))),
        ...(grant.approval ? { approval: { required: grant.approval.required, approvedBy, expiresAt: grant.approval.expiresAt } } : {}),
      },
  });
}

/** Where one sink is with one event. */
export const Delivery = z.strictObject({
  attempts: z.number().int().min(0),
  /** Not before this instant (backoff after a failure). */
  nextAttemptAt: UtcInstant.optional(),
  deliveredAt: UtcInstant.optional(),
  /** Not delivered, and no longer tried: the event outlived the outbox's retention, or the sink does not take this kind of event. */
  skippedAt: UtcInstant.optional(),
  lastError: machineText(500).optional(),
});
export type Delivery = z.output<typeof Delivery>;

/**
 * An event waiting in the ledger's outbox, with each sink's progress. Written by compare-and-swap
 * like a grant, so that two brokers never both record a delivery; deleted once every sink has it.
 */
export const OutboxEntry = z.strictObject({
  key: z.string().regex(/^\d{15}_\d{9}_[a-z2-7]{16}$/),
  version: z.number().int().min(1),
  event: NotificationEvent,
  deliveries: z.record(z.string().min(1).max(64), Delivery),
});
export type OutboxEntry = z.output<typeof OutboxEntry>;

let sequence = 0;

/** Outbox keys sort as the events were made: time, then this process's sequence, then the event id. */
export function outboxKey(event: NotificationEvent): string {
  sequence = (sequence + 1) % 1e9;
  return `${String(epochMs(event.time)).padStart(15, "0")}_${String(sequence).padStart(9, "0")}_${event.id}`;
}
