/**
 * Behaviour switches of the Azure emulator. The object handed out as `emu.options` is the live
 * one: a test may change a field between calls and the next request sees it.
 */
export interface AzureEmulatorOptions {
  /** The only subscription the emulator serves; others answer `SubscriptionNotFound`. */
  subscriptionId: string;
  /** The principal that `emu.credential` signs in as. It gets Owner-like permissions (`*`). */
  principal: string;
  /** Location of resources created without one by the seed helpers. */
  location: string;
  /**
   * How many times the async-operation URL answers `InProgress` before `Succeeded`. The first
   * poll of the SDKs is immediate, so 0 makes a long-running operation cost no waiting at all.
   */
  lroPolls: number;
  /**
   * An operation nobody polls still finishes after this long, as a real one would: a client that
   * died mid-operation does not hold the resource's write lock for ever.
   */
  lroMaxMs: number;
  /** `Retry-After` (seconds) on long-running operation responses. NRP says 10; 0 keeps SDK pollers on their own interval. */
  lroRetryAfterSeconds: number;
  /**
   * What a write gets while another write holds the NSG (or the resource) it touches: NRP answers
   * both, 429 `RetryableError` (which the SDKs retry by themselves) and 409 `AnotherOperationInProgress`.
   */
  conflictMode: 429 | 409;
  /** `x-ms-retry-after-ms` on a 429 `RetryableError` (`Retry-After` carries the same, rounded up to seconds). */
  retryAfterMs: number;
  /** Items per page of every list; a smaller value forces `nextLink` paging. */
  pageSize: number;
  /**
   * A security rule that gives both `sourceAddressPrefix` and non-empty `sourceAddressPrefixes`
   * (or the same for destination prefixes, or port ranges). Azure's answer is unverified; the
   * Azure PM said "the user must supply one or the other", so the default rejects it.
   */
  singularAndPlural: "reject" | "accept";
  /**
   * Whether If-Match on a security rule PUT/DELETE is enforced. NRP's handling of ETags on child
   * resources is unverified, so a test can turn it off.
   */
  ifMatchOnSecurityRules: boolean;
  /** The Entra tenant whose issuer signs the tokens; ARM refuses tokens of any other (`tid`, `iss`). */
  tenantId: string;
  /**
   * Authorise every ARM call as ARM does: the request's action against the caller's role
   * assignments at its scope, and the `join` actions of what a write references (see `rbac.ts`).
   * Off, any valid token may do anything.
   */
  rbac: boolean;
  /** The emulator's clock (ms since the epoch): token issue times, expiry checks and key retirement. */
  now: () => number;
}

const DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000";
const DEFAULT_TENANT_ID = "0f0e0d0c-0b0a-4909-8807-060504030201";

export function defaultOptions(overrides: Partial<AzureEmulatorOptions> = {}): AzureEmulatorOptions {
  return {
    subscriptionId: DEFAULT_SUBSCRIPTION_ID,
    principal: "owner",
    location: "westeurope",
    lroPolls: 1,
    lroMaxMs: 10_000,
    lroRetryAfterSeconds: 0,
    conflictMode: 429,
    retryAfterMs: 10,
    pageSize: 100,
    singularAndPlural: "reject",
    ifMatchOnSecurityRules: true,
    tenantId: DEFAULT_TENANT_ID,
    rbac: true,
    now: () => Date.now(),
    ...overrides,
  };
}
