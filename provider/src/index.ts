/**
 * pulumi-jit: just-in-time network access to Azure and AWS virtual machines, as Pulumi code.
 *
 * - `azure.JitPolicy`, `aws.JitPolicy`: Pulumi resources that keep management ports closed.
 * - `requestAccess`, `revokeAccess`, `sweep`, `runDaemon`: open a port for a while, close it early,
 *   and close everything that is due (the `jit` CLI is a thin shell over these).
 * - The model (policies, requests, grants), Defender JSON import and export, and the ledger.
 *
 * Importing this module loads no cloud SDK; each loads when its cloud is first used.
 */
export { azure, aws } from "./pulumi";
export {
  requestAccess,
  revokeAccess,
  sweep,
  runDaemon,
  detectPublicAddress,
  DEFAULT_REQUEST_ACTIONS,
  DEFAULT_ABANDONED_AFTER_MS,
} from "./access";
export type {
  AccessOptions,
  RequestAccessArgs,
  RequestAccessOptions,
  SweepOptions,
  SweepReport,
  DaemonOptions,
  CloudDriver,
  PolicyRef,
} from "./access";
export { JitError, isJitError, parsePolicy, checkRequest, fromDefenderPolicy, toDefenderPolicy, fromDefenderInitiateRequest, toDefenderRequest, defenderStatus } from "./model";
export type { JitErrorCode, Policy, PolicyInput, AccessRequest, AccessRequestInput, Grant, GrantState, GrantReason, Change, AuditEvent, Cloud } from "./model";
export { openLedger } from "./ledger";
export type { Ledger, PolicyRecord } from "./ledger";
export { scan, type ScanOptions, type ScanReport, type ScanResult } from "./scan";
