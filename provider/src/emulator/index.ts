/**
 * `pulumi-jit/emulator`: local Azure ARM and AWS EC2 endpoints that the real SDK clients talk to,
 * for testing JIT pipelines offline.
 */
export { CallLog, FaultInjector } from "./common";
export type { CallRecord, CallFilter, FaultAction, FaultMatch } from "./common";
