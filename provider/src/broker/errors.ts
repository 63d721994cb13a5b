import { isJitError, type JitErrorCode } from "../model";
import { AuthenticationError } from "./auth";

/** The broker's own refusals, next to the product's `JitError` codes. */
export type BrokerErrorCode = JitErrorCode | "Unauthenticated" | "RateLimited" | "PayloadTooLarge" | "UnsupportedMediaType" | "MethodNotAllowed" | "Unavailable" | "Failure";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: BrokerErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Each JitError code's HTTP status: bad input 400; a refusal by policy 422 (the request is well
 * formed and understood, and does not fit); a caller without the right 403; a lost race 409; a
 * cloud failure 502 (the broker is fine, the cloud is not); a store that cannot be reached 503.
 */
const STATUS: Record<string, number> = {
  InvalidInput: 400,
  RequestNotAllowed: 422,
  Unauthorized: 403,
  NotFound: 404,
  CapacityExceeded: 409,
  Conflict: 409,
  VersionConflict: 409,
  Unsupported: 422,
  CloudError: 502,
  Unavailable: 503,
};

export interface ErrorBody {
  error: { code: BrokerErrorCode; message: string; field?: string };
}

export function toHttpError(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof HttpError) return { status: err.status, body: { error: { code: err.code, message: err.message } }, headers: err.headers };
  if (err instanceof AuthenticationError) {
    return { status: 401, body: { error: { code: "Unauthenticated", message: err.message } }, headers: { "www-authenticate": 'Bearer realm="pulumi-jit", JIT-AWS-STS realm="pulumi-jit"' } };
  }
  if (isJitError(err)) {
    const status = STATUS[err.code] ?? 500;
    return { status, body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }, headers: {} };
  }
  // Anything else is our fault; its text may hold internals, so it goes to the log, not the caller.
  return { status: 500, body: { error: { code: "Failure", message: "the broker failed; see its log" } }, headers: {} };
}
