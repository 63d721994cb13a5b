/**
 * `pulumi-jit/emulator`: local Azure ARM and AWS EC2 endpoints that the real SDK clients talk to,
 * for testing JIT pipelines offline.
 */
export { CallLog, FaultInjector } from "./common";
export type { CallRecord, CallFilter, FaultAction, FaultMatch } from "./common";
export * from "./aws";
export {
  startAzureEmulator,
  type AzureEmulator,
  type AzureEmulatorOptions,
  type EmulatorIdentity as AzureEmulatorIdentity,
  type TokenOverrides as AzureTokenOverrides,
  type SeedRule as AzureSeedRule,
  type TypicalVm as AzureTypicalVm,
} from "./azure";
