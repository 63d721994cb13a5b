import { JitError } from "../model";

/**
 * ARM errors as pulumi-jit reports and handles them. The SDKs throw a `RestError` (with the HTTP
 * `statusCode` and ARM's error `code`) when a request is refused, and a plain `Error` reading "The
 * long-running operation has failed. <code>. <message>" when an accepted write later fails.
 */
export interface ArmError {
  status?: number;
  code?: string;
  message: string;
}

const LRO_FAILED = /long-running operation has failed\.\s*([\w.]+)\./i;

export function armError(err: unknown): ArmError {
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown } | null | undefined;
  const message = typeof e?.message === "string" ? e.message : String(err);
  const status = typeof e?.statusCode === "number" ? e.statusCode : undefined;
  const code = typeof e?.code === "string" ? e.code : LRO_FAILED.exec(message)?.[1];
  return { ...(status === undefined ? {} : { status }), ...(code === undefined ? {} : { code }), message };
}

export function isNotFound(err: unknown): boolean {
  const { status, code } = armError(err);
  return status === 404 || code === "NotFound" || code === "ResourceNotFound";
}

/**
 * A management lock (CanNotDelete or ReadOnly) refused the write: ARM answers 409 `ScopeLocked`.
 * No amount of retrying helps until an administrator removes the lock.
 */
export function isScopeLocked(err: unknown): boolean {
  return armError(err).code === "ScopeLocked";
}

/**
 * What `@azure/core-lro` throws when an accepted operation ends with status `Canceled`: a bare
 * Error with neither code nor details. NRP cancels a write only when a later write to the same
 * resource superseded it (`CanceledAndSupersededDueToAnotherOperation`), and nothing in
 * pulumi-jit cancels its own, so it is a lost race. Whether the superseding operation carried our
 * change is not documented; reading again and planning again is right either way.
 */
const LRO_CANCELED = /^Operation was cancell?ed\.?$/i;

/**
 * A write that lost to another writer and may be planned again: another operation held the NSG
 * (409 AnotherOperationInProgress, 429 RetryableError, or an accepted operation cancelled and
 * superseded by another), the NSG changed since we read it (412 PreconditionFailed), or another
 * writer took the priority we chose (400 SecurityRuleConflict). A 409 from a management lock
 * (`ScopeLocked`) is not a race.
 */
export function isLostRace(err: unknown): boolean {
  const { status, code, message } = armError(err);
  if (isScopeLocked(err)) return false;
  return (
    LRO_CANCELED.test(message) ||
    status === 409 ||
    status === 412 ||
    status === 429 ||
    code === "SecurityRuleConflict" ||
    code === "AnotherOperationInProgress" ||
    code === "RetryableError" ||
    code === "PreconditionFailed" ||
    /canceledandsupersededduetoanotheroperation/i.test(message)
  );
}

/**
 * The caller cannot sign in any more (an expired fixed token, ARM's 401): nothing else will work
 * either, so loops over many resources stop instead of recording one failure per resource.
 */
export function isSignInFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof JitError && e.code === "Unauthorized") return true;
    if (armError(e).status === 401) return true;
  }
  return false;
}

/** ARM's answer when an NSG is full: no room, which is ours to report as such. */
const CAPACITY = new Set(["SecurityRuleCountLimitReached", "SecurityRuleAddressesOrPortsPerSecurityGroupLimitReached"]);

/** An SDK error as a JitError (`CloudError`, or `CapacityExceeded`) whose message keeps ARM's status and code, with the SDK error as `cause`. */
export function cloudError(err: unknown, doing: string): JitError {
  if (err instanceof JitError) return err;
  const { status, code, message } = armError(err);
  const said = [status === undefined ? "" : `HTTP ${status}`, code ?? ""].filter(Boolean).join(" ");
  const hint = isScopeLocked(err)
    ? " (a management lock on the resource, its resource group or its subscription forbids this write; pulumi-jit does not retry it: remove the lock, or have its owner make the change, then run `jit sweep`)"
    : "";
  return new JitError(code !== undefined && CAPACITY.has(code) ? "CapacityExceeded" : "CloudError", `${doing} failed: ${said ? `${said}: ` : ""}${message}${hint}`, { cause: err });
}
