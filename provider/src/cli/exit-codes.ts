import { JitError, JitErrorCode } from "../model/errors";

/**
 * Exit codes scripts can rely on. They are part of the CLI's contract: documented in `jit --help`
 * and the README, and never reused for another meaning.
 */
export const EXIT = {
  ok: 0,
  /** Something failed that is not one of the cases below (a bug, an unexpected cloud answer). */
  failure: 1,
  /** The command line or the input was wrong; nothing was changed. */
  usage: 2,
  /** The request was refused (policy or permission); nothing was changed. */
  refused: 3,
  /** A named policy or grant does not exist. */
  notFound: 4,
  /** The cloud or a concurrent writer kept failing the work; what was done was rolled back or left for `jit sweep`. */
  cloud: 5,
  /** The ledger could not be opened or used (unreachable, damaged, read-only, missing); the message names it and says what to do. */
  ledger: 6,
} as const;

const BY_CODE: Record<JitErrorCode, number> = {
  InvalidInput: EXIT.usage,
  RequestNotAllowed: EXIT.refused,
  Unauthorized: EXIT.refused,
  NotFound: EXIT.notFound,
  CapacityExceeded: EXIT.cloud,
  Conflict: EXIT.cloud,
  Unsupported: EXIT.usage,
  VersionConflict: EXIT.cloud,
  CloudError: EXIT.cloud,
  Unavailable: EXIT.ledger,
};

export function exitCodeFor(err: unknown): number {
  // By name, not instanceof: importing the ledger here would load it for `jit --help`.
  if (err instanceof Error && err.name === "LedgerCorruptError") return EXIT.ledger;
  return err instanceof JitError ? BY_CODE[err.code] : EXIT.failure;
}

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  unexpected failure
  2  bad command line or input (nothing changed)
  3  request refused by the policy or for lack of permission (nothing changed)
  4  policy or grant not found
  5  the cloud or a concurrent writer kept failing (see the message; run \`jit sweep\` to tidy up)
  6  the ledger could not be opened or used (the message names it and says what to do)`;
