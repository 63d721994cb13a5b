export * from "../driver";
export * from "./context";
export { requestAccess, RequestAccessArgs, RequestAccessOptions } from "./request";
export { revokeAccess } from "./restore";
export { sweep, SweepOptions, SweepReport, DEFAULT_ABANDONED_AFTER_MS } from "./sweep";
export { runDaemon, DaemonOptions } from "./daemon";
export { DEFAULT_REQUEST_ACTIONS } from "./authorize";
export { detectPublicAddress, DEFAULT_ADDRESS_ECHO_SERVICES } from "./source-address";
export type { PolicyRef } from "./policies";
