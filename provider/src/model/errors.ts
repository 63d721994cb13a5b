/**
 * Every error pulumi-jit raises on purpose carries a stable `code` that scripts can branch on, and,
 * when bad input caused it, the `field` (a dotted path such as `virtualMachines[0].ports[1].number`)
 * that was wrong. Messages say what was wrong and what would be right.
 */
export type JitErrorCode =
  /** Input failed validation; nothing was changed. */
  | "InvalidInput"
  /** The request does not fit the policy (port, duration, source); nothing was changed. */
  | "RequestNotAllowed"
  /** The caller lacks the permission the request needs; nothing was changed. */
  | "Unauthorized"
  /** A named thing (policy, grant, VM, NSG, ...) does not exist. */
  | "NotFound"
  /** No room left: NSG priorities or rule count, security-group limits. */
  | "CapacityExceeded"
  /** A concurrent writer won, and retries ran out. */
  | "Conflict"
  /** The cloud resource is in a shape pulumi-jit refuses to manage (e.g. a firewall under Firewall Policy). */
  | "Unsupported"
  /** A record changed since it was read (optimistic concurrency). */
  | "VersionConflict"
  /** A cloud call failed; `cause` holds the cloud's error. */
  | "CloudError"
  /** The ledger's store could not be opened or used (unreachable, throttled past the retries, unreadable, damaged, read-only); retrying later may help. */
  | "Unavailable";

export class JitError extends Error {
  readonly code: JitErrorCode;
  readonly field?: string;

  constructor(code: JitErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(options.field ? `${options.field}: ${message}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "JitError";
    this.code = code;
    this.field = options.field;
  }
}

export function isJitError(err: unknown, code?: JitErrorCode): err is JitError {
  return err instanceof JitError && (code === undefined || err.code === code);
}

/** What went wrong, in words: an error's message, or whatever was thrown, as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
