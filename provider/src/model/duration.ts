import { z } from "zod";
import { JitError } from "./errors";
import { viaParser } from "./validate";

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

/**
 * ISO-8601 durations as Defender uses them (`PT5M`, `PT3H`, `P1D`, `PT1H30M`), plus weeks. Only
 * seconds may carry a fraction, to the millisecond. Years and months are refused: their length
 * depends on the calendar, and an access window must have one exact length.
 */
const PATTERN =
  /^P(?:(\d+)W|(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,3}))?S)?)?)$/;
const CALENDAR_UNITS = /^P[^T]*\d(?:Y|M)/;

/** Parses an ISO-8601 duration to milliseconds, or throws an `InvalidInput` error naming `field`. */
export function parseDuration(text: string, field = "duration"): number {
  const match = PATTERN.exec(text);
  // "P" and "PT" match the pattern with every part absent; ISO requires at least one part.
  if (!match || text === "P" || text.endsWith("T")) {
    const why = CALENDAR_UNITS.test(text)
      ? "uses years or months, which have no fixed length; use days (P1D) or hours (PT24H)"
      : "is not an ISO-8601 duration such as PT5M, PT3H, P1D or PT1H30M";
    throw new JitError("InvalidInput", `"${text}" ${why}`, { field });
  }
  const [, weeks, days, hours, minutes, seconds, millis] = match;
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  const ms =
    n(weeks) * WEEK_MS +
    n(days) * DAY_MS +
    n(hours) * HOUR_MS +
    n(minutes) * MINUTE_MS +
    n(seconds) * SECOND_MS +
    (millis === undefined ? 0 : Number(millis.padEnd(3, "0")));
  if (!Number.isSafeInteger(ms)) throw new JitError("InvalidInput", `"${text}" is too long to be an access duration`, { field });
  return ms;
}

/** The canonical ISO-8601 text of a whole number of milliseconds: days, hours, minutes, seconds (`P1DT1H30M`, `PT0S`). */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new JitError("InvalidInput", `${ms} is not a whole, non-negative number of milliseconds`);
  }
  const days = Math.floor(ms / DAY_MS);
  const hours = Math.floor((ms % DAY_MS) / HOUR_MS);
  const minutes = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  const seconds = Math.floor((ms % MINUTE_MS) / SECOND_MS);
  const millis = ms % SECOND_MS;
  const fraction = millis ? `.${String(millis).padStart(3, "0").replace(/0+$/, "")}` : "";
  const time = `${hours ? `${hours}H` : ""}${minutes ? `${minutes}M` : ""}${seconds || millis ? `${seconds}${fraction}S` : ""}`;
  const text = `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
  return text === "P" ? "PT0S" : text;
}

/** An ISO-8601 duration, validated and kept as written (so that imported Defender JSON round-trips). */
export const IsoDuration = z.string().superRefine(viaParser(parseDuration));
