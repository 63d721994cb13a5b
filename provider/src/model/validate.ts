import { z } from "zod";
import { JitError } from "./errors";

/** `["virtualMachines", 0, "ports", 1, "number"]` → `virtualMachines[0].ports[1].number`, as JitError fields are spelt. */
export function fieldPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${String(key)}`;
  }
  return out;
}

/**
 * A string of at most `max` characters, checked before anything else about it (patterns, parsers,
 * refinements) runs: a check that fails with `abort` ends the string's validation there, so an
 * oversized value from the network costs one length comparison, whatever the patterns after it.
 */
export function boundedString(max: number) {
  return z.string().max(max, { error: `must be at most ${max} characters`, abort: true });
}

/** Bounds for the model's text fields: each well above anything real, far below anything costly. */
export const MAX_LENGTH = {
  /** An Azure resource id (ARM's limit is in this order), an EC2 instance ARN or id. */
  vmId: 1024,
  /** An IPv6 CIDR block is at most 43 characters. */
  prefix: 64,
  /** An ISO-8601 duration or date-time. */
  time: 64,
  /** An object id, UPN or IAM ARN (pattern). */
  principal: 512,
} as const;

/** How many problems one InvalidInput error lists before it says "and N more". */
const LISTED_PROBLEMS = 5;

/**
 * Validates `input` against a schema. On failure throws one `InvalidInput` JitError whose `field` is
 * the first problem's path (prefixed with `prefix`, for input nested in a larger document) and whose
 * message lists every problem, so a user fixes a policy in one round instead of one field at a time.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ""): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  const others = rest.slice(0, LISTED_PROBLEMS - 1).map((i) => `${fieldPath(i.path, prefix) || what}: ${i.message}`);
  if (rest.length > others.length) others.push(`and ${rest.length - others.length} more`);
  const field = fieldPath(first.path, prefix);
  const message = `invalid ${what}: ${first.message}${others.length ? `; also ${others.join("; ")}` : ""}`;
  throw new JitError("InvalidInput", message, field ? { field } : {});
}

/** The message of a JitError without the `field: ` prefix its constructor adds. */
export function bareMessage(err: JitError): string {
  return err.field && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
}

/**
 * Bridges the model's text parsers (prefixes, durations, VM ids), which throw JitError, into zod:
 * the parser's own message becomes an issue at the value's path. Other errors propagate.
 */
export function viaParser(parse: (text: string) => unknown) {
  return (text: string, ctx: z.RefinementCtx<string>): void => {
    try {
      parse(text);
    } catch (err) {
      if (!(err instanceof JitError)) throw err;
      ctx.addIssue({ code: "custom", message: bareMessage(err), input: text });
    }
  };
}

/**
 * For cross-field refinements: zod 4 runs a refinement even when a field inside already failed, so
 * a check that reads other fields (parses VM ids, compares clouds) waits until they are all valid.
 */
export const WHEN_VALID = { when: (payload: z.core.ParsePayload): boolean => payload.issues.length === 0 };

/**
 * Adds an issue at `field` of every item whose key an earlier item already had (a port listed
 * twice, a VM listed twice), saying where the first one is.
 */
export function flagRepeats<T>(
  ctx: z.RefinementCtx<unknown>,
  list: string,
  items: readonly T[],
  keyOf: (item: T) => unknown,
  field: string,
  says: (item: T, first: string) => string,
): void {
  const firstAt = new Map<unknown, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const first = firstAt.get(key);
    if (first === undefined) firstAt.set(key, i);
    else ctx.addIssue({ code: "custom", path: [list, i, field], message: says(item, `${list}[${first}]`), input: item });
  });
}
