import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, HOUR_MS, MINUTE_MS, formatDuration, parseDuration } from "./duration";
import { assertJitError } from "./testing/assert";

test("ISO-8601 durations parse to milliseconds and format back canonically", () => {
  const cases: [string, number, string][] = [
    ["PT5M", 5 * MINUTE_MS, "PT5M"],
    ["PT3H", 3 * HOUR_MS, "PT3H"],
    ["P1D", DAY_MS, "P1D"],
    ["PT1H30M", 90 * MINUTE_MS, "PT1H30M"],
    ["PT90M", 90 * MINUTE_MS, "PT1H30M"],
    ["PT24H", DAY_MS, "P1D"],
    ["P1DT12H", 36 * HOUR_MS, "P1DT12H"],
    ["P2W", 14 * DAY_MS, "P14D"],
    ["PT0S", 0, "PT0S"],
    ["PT1.5S", 1500, "PT1.5S"],
    ["PT0.001S", 1, "PT0.001S"],
    ["PT1M0.25S", 60250, "PT1M0.25S"],
  ];
  for (const [text, ms, canonical] of cases) {
    assert.equal(parseDuration(text), ms, text);
    assert.equal(formatDuration(ms), canonical, text);
  }
});

test("bad durations are refused with the field and the reason", () => {
  const cases: [string, RegExp][] = [
    ["P1Y", /"P1Y" uses years or months, which have no fixed length; use days \(P1D\) or hours \(PT24H\)/],
    ["P1M", /uses years or months/],
    ["P1MT1H", /uses years or months/],
    ["3h", /"3h" is not an ISO-8601 duration such as PT5M, PT3H, P1D or PT1H30M/],
    ["pt3h", /is not an ISO-8601 duration/],
    ["P", /"P" is not an ISO-8601 duration/],
    ["PT", /"PT" is not an ISO-8601 duration/],
    ["P1DT", /is not an ISO-8601 duration/],
    ["-PT5M", /is not an ISO-8601 duration/],
    ["PT0.0001S", /is not an ISO-8601 duration/],
    ["PT1.5H", /is not an ISO-8601 duration/],
    ["", /is not an ISO-8601 duration/],
    ["P99999999999999999D", /"P99999999999999999D" is too long to be an access duration/],
  ];
  for (const [text, message] of cases) {
    assertJitError(() => parseDuration(text, "ports[0].maxRequestAccessDuration"), "InvalidInput", "ports[0].maxRequestAccessDuration", message);
  }
  assertJitError(() => formatDuration(-1), "InvalidInput", undefined, /-1 is not a whole, non-negative number of milliseconds/);
  assertJitError(() => formatDuration(1.5), "InvalidInput", undefined, /1\.5 is not a whole/);
});

test("property: every whole number of milliseconds round-trips through its ISO text", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 400 * DAY_MS }), (ms) => parseDuration(formatDuration(ms)) === ms),
    { numRuns: 2000 },
  );
});

test("property: any valid spelling formats to the canonical text of the same length", () => {
  const part = (unit: string) => fc.option(fc.integer({ min: 0, max: 500 }).map((n) => `${n}${unit}`), { nil: "" });
  const spelling = fc
    .tuple(part("D"), part("H"), part("M"), part("S"))
    .filter(([d, h, m, s]) => (d + h + m + s).length > 0)
    .map(([d, h, m, s]) => `P${d}${h || m || s ? `T${h}${m}${s}` : ""}`);
  fc.assert(
    fc.property(spelling, (text) => {
      const canonical = formatDuration(parseDuration(text));
      return parseDuration(canonical) === parseDuration(text) && formatDuration(parseDuration(canonical)) === canonical;
    }),
    { numRuns: 1000 },
  );
});
