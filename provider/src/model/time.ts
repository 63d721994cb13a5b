import { z } from "zod";

/** A date-time as callers and Defender write it (`2018-07-12T09:53:03.3658798Z`, or with an offset). */
export const DateTimeText = z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time such as 2030-01-01T12:00:00Z" });

/** An instant that pulumi-jit recorded: UTC, as `Date#toISOString` writes it, so that text order is time order. */
export const UtcInstant = z.iso.datetime({ precision: 3, error: "must be a UTC instant such as 2030-01-01T12:00:00.000Z" });

/** Milliseconds since the epoch, from whichever form a caller passes the current time in. */
export function epochMs(time: Date | number | string): number {
  return typeof time === "number" ? time : typeof time === "string" ? Date.parse(time) : time.getTime();
}

/** The canonical text of an instant. */
export function utc(time: Date | number | string): string {
  return new Date(epochMs(time)).toISOString();
}
