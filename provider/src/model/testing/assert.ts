import assert from "node:assert/strict";
import { JitError, JitErrorCode } from "../errors";

/** Asserts that `run` throws a JitError with this code and field whose message matches `message`. */
export function assertJitError(run: () => unknown, code: JitErrorCode, field: string | undefined, message: RegExp): JitError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof JitError, `expected a JitError, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.field, field, caught.message);
  assert.match(caught.message, message);
  return caught;
}

/** The same, for a promise. */
export async function assertRejectsJitError(run: () => Promise<unknown>, code: JitErrorCode, field: string | undefined, message: RegExp): Promise<JitError> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  return assertJitError(() => {
    if (caught !== undefined) throw caught;
  }, code, field, message);
}
