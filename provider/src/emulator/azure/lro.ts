import { randomUUID } from "node:crypto";
import type { EmulatorResponse } from "../common";
import { FaultMatch, faultMatches } from "../common";
import { ArmErrorDetail, empty, fail, json } from "./arm";
import { key } from "./ids";
import { Latency } from "./latency";
import { ManagementLocks } from "./management-locks";
import type { AzureEmulatorOptions } from "./options";
import { ArmRequest, ArmRoute, header } from "./router";

/**
 * Long-running operations and NRP's per-resource write lock.
 *
 * A write is applied when its request is accepted: from then on reads show the new state, with
 * `provisioningState` `Updating` (or `Deleting`) until the operation completes. The operation
 * completes when its async-operation URL has answered `InProgress` `lroPolls` times (or after
 * `lroMaxMs`, for clients that stop polling). Until then it holds the write lock of every id it
 * touches (the resource and the NSGs it references), and another write to any of them gets 429
 * `RetryableError` or 409 `AnotherOperationInProgress`, as NRP answers.
 */
export interface OperationError {
  code: string;
  message: string;
  details?: ArmErrorDetail[];
  /** HTTP status the Location URL answers with once the operation has failed (default 400). */
  status?: number;
  /**
   * `Canceled` when another operation superseded this one: NRP then ends it with status `Canceled`
   * (not `Failed`), and the operation that superseded it carries on from the stored resource.
   */
  outcome?: "Failed" | "Canceled";
}

/**
 * How NRP ends an accepted write that a later write to the same resource superseded, verbatim from
 * real traffic (a Terraform log of `azurerm_network_security_rule`, and cloud-provider-azure's
 * retry code): status `Canceled`, code `Canceled`, the detail `CanceledAndSupersededDueToAnotherOperation`.
 */
export function superseded(operation = "PutSecurityRuleOperation"): OperationError {
  const id = randomUUID();
  return {
    outcome: "Canceled",
    code: "Canceled",
    message: "Operation was canceled.",
    details: [
      {
        code: "CanceledAndSupersededDueToAnotherOperation",
        message: `Operation ${operation} (${id}) was canceled and superseded by operation ${operation} (${randomUUID()}).`,
      },
    ],
  };
}

export type OperationStatus = "InProgress" | "Succeeded" | "Failed" | "Canceled";

export interface OperationSummary {
  id: string;
  /** NRP's name for it, e.g. `PutSecurityRuleOperation`. */
  name: string;
  status: OperationStatus;
  /** The ids whose write lock it holds while in progress. */
  locks: string[];
}

interface Operation extends OperationSummary {
  provider: string;
  location: string;
  apiVersion: string;
  origin: string;
  pollsLeft: number;
  startedAt: number;
  /** On the virtual clock, when latency is modelled: when the operation completes. */
  endsAt: number;
  error?: OperationError;
  settle(succeeded: boolean): void;
}

export interface WriteSpec {
  kind: "Put" | "Delete";
  /** The resource kind in NRP's operation names: `SecurityRule` gives `PutSecurityRuleOperation`. */
  what: string;
  provider: string;
  location: string;
  /** The ids this write locks: the resource (or its parent) and any NSG it attaches or detaches. */
  locks: string[];
  /** The target's current ETag for If-Match/If-None-Match; undefined when it does not exist. */
  etag: string | undefined;
  /** False only where a switch turns ETag checks off. */
  preconditions?: boolean;
  /**
   * NRP finishes some writes before it answers (a NIC's PUT answers 201 with `Succeeded`): the
   * operation URL is still given, answers `Succeeded` at once, and holds no lock.
   */
  immediate?: boolean;
  /** Validates, applies, and says how to answer and how to finish when the operation ends. */
  apply(): Applied;
}

export interface Applied {
  status: number;
  body?: unknown;
  settle(succeeded: boolean): void;
}

export class Operations {
  private readonly ops = new Map<string, Operation>();
  private failures: { match: FaultMatch; error: OperationError; remaining: number }[] = [];
  /** Management locks, which ARM checks before any write reaches the resource provider. */
  readonly managementLocks = new ManagementLocks();
  /** Modelled latency on a virtual clock (off unless enabled). */
  readonly latency = new Latency();

  constructor(private readonly options: AzureEmulatorOptions) {}

  /**
   * The next `times` long-running writes that match end `Failed` with `error` (the write itself
   * is accepted and applied; the resource ends in provisioning state `Failed`).
   */
  failNext(match: FaultMatch, error: OperationError, times = 1): void {
    this.failures.push({ match, error, remaining: times });
  }

  /** Completes every operation still in progress, as time would. */
  settle(): void {
    for (const op of this.ops.values()) if (op.status === "InProgress") this.complete(op);
  }

  list(): OperationSummary[] {
    this.expire();
    return [...this.ops.values()].map(({ id, name, status, locks }) => ({ id, name, status, locks: [...locks] }));
  }

  /** Checks the write lock and the preconditions, applies the write, and starts its operation. */
  write(req: ArmRequest, spec: WriteSpec): EmulatorResponse {
    this.managementLocks.check(req.method, req.path);
    this.checkLocks(spec.locks);
    if (spec.preconditions !== false) checkPreconditions(req, spec.etag);
    const applied = spec.apply();
    const planned = this.takeFailure({ method: req.method, path: req.path, operation: req.operation });
    const op: Operation = {
      id: randomUUID(),
      name: `${spec.kind}${spec.what}Operation`,
      status: "InProgress",
      locks: spec.locks.filter((id, i) => spec.locks.findIndex((o) => key(o) === key(id)) === i),
      provider: spec.provider,
      location: spec.location,
      apiVersion: req.apiVersion,
      origin: req.origin,
      pollsLeft: this.options.lroPolls,
      startedAt: Date.now(),
      endsAt: this.latency.now() + this.latency.durationMs(spec.what),
      error: planned,
      settle: applied.settle,
    };
    this.ops.set(op.id, op);
    if (spec.immediate) this.complete(op);
    const headers: Record<string, string> = { "Azure-AsyncOperation": this.url(op, "operations") };
    // Nothing to wait for when the write is already over: NRP then sends no Retry-After.
    if (!spec.immediate) headers["Retry-After"] = String(this.retryAfter());
    if (spec.kind === "Delete") {
      headers.Location = this.url(op, "operationResults");
      return empty(applied.status, headers);
    }
    return json(applied.status, applied.body, headers);
  }

  /** A write that completes at once (PATCH of tags, DELETE of nothing) still waits for the lock and honours If-Match. */
  writeNow(req: ArmRequest, locks: string[], etag: string | undefined, apply: () => EmulatorResponse): EmulatorResponse {
    this.managementLocks.check(req.method, req.path);
    this.checkLocks(locks);
    checkPreconditions(req, etag);
    return apply();
  }

  /** The routes of the async-operation (`operations`) and `Location` (`operationResults`) URLs. */
  routes(): ArmRoute[] {
    const base = "/subscriptions/{subscriptionId}/providers/{provider}/locations/{location}";
    return [
      { method: "GET", path: `${base}/operations/{operationId}`, operation: "AsyncOperation_Get", handle: (req) => this.asyncStatus(req) },
      { method: "GET", path: `${base}/operationResults/{operationId}`, operation: "Location_Get", handle: (req) => this.locationStatus(req) },
    ];
  }

  private asyncStatus(req: ArmRequest): EmulatorResponse {
    const op = this.poll(req.params.operationId);
    const retry = { "Retry-After": String(this.retryAfter()) };
    if (op.status === "InProgress") return json(200, { status: "InProgress" }, retry);
    if (op.status === "Succeeded") return json(200, { status: "Succeeded" });
    const { code, message, details = [] } = op.error ?? { code: "InternalServerError", message: "" };
    return json(200, { status: op.status, error: { code, message, details } });
  }

  private locationStatus(req: ArmRequest): EmulatorResponse {
    const op = this.poll(req.params.operationId);
    if (op.status === "InProgress") {
      return empty(202, { Location: this.url(op, "operationResults"), "Retry-After": String(this.retryAfter()) });
    }
    if (op.status === "Succeeded") return empty(204);
    const { code, message, details = [], status = 400 } = op.error ?? { code: "InternalServerError", message: "" };
    return fail(status, code, message, details);
  }

  private retryAfter(): number {
    return this.latency.retryAfterSeconds() ?? this.options.lroRetryAfterSeconds;
  }

  private poll(id: string): Operation {
    this.expire();
    const op = this.ops.get(id) ?? fail(404, "NotFound", `Operation ${id} not found.`);
    if (op.status === "InProgress" && !this.latency.enabled) {
      if (op.pollsLeft > 0) op.pollsLeft -= 1;
      else this.complete(op);
    }
    return op;
  }

  private complete(op: Operation): void {
    op.status = op.error ? (op.error.outcome ?? "Failed") : "Succeeded";
    // A superseded write's change is carried on by the operation that superseded it.
    op.settle(op.status !== "Failed");
  }

  private expire(): void {
    const now = Date.now();
    const virtual = this.latency.enabled ? this.latency.now() : undefined;
    for (const op of this.ops.values()) {
      if (op.status !== "InProgress") continue;
      if (now - op.startedAt >= this.options.lroMaxMs || (virtual !== undefined && virtual >= op.endsAt)) this.complete(op);
    }
  }

  private checkLocks(ids: string[]): void {
    this.expire();
    const wanted = new Set(ids.map(key));
    for (const op of this.ops.values()) {
      if (op.status !== "InProgress") continue;
      const locked = op.locks.find((id) => wanted.has(key(id)));
      if (locked !== undefined) this.busy(op, locked);
    }
  }

  private busy(op: Operation, locked: string): never {
    if (this.options.conflictMode === 409) {
      return fail(
        409,
        "AnotherOperationInProgress",
        `Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: ${this.url(op, "operations")}.`,
      );
    }
    const ms = this.latency.enabled ? this.latency.durationMs("default") : this.options.retryAfterMs;
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return fail(
      429,
      "RetryableError",
      "A retryable error occured.", // NRP's own spelling
      [{ code: "RetryableErrorDueToAnotherOperation", message: `Operation ${op.name} (${op.id}) is updating resource ${locked}. The call can be retried in ${seconds} seconds.` }],
      { "Retry-After": String(seconds), "x-ms-retry-after-ms": String(ms) },
    );
  }

  private takeFailure(req: { method: string; path: string; operation: string }): OperationError | undefined {
    const rule = this.failures.find((f) => f.remaining > 0 && faultMatches(req, f.match));
    if (!rule) return undefined;
    rule.remaining -= 1;
    this.failures = this.failures.filter((f) => f.remaining > 0);
    return rule.error;
  }

  private url(op: Operation, kind: "operations" | "operationResults"): string {
    return `${op.origin}/subscriptions/${this.options.subscriptionId}/providers/${op.provider}/locations/${op.location}/${kind}/${op.id}?api-version=${encodeURIComponent(op.apiVersion)}`;
  }
}

const strip = (etag: string): string => etag.trim().replace(/^W\//, "");

function matchesAny(list: string, etag: string): boolean {
  return list.split(",").some((e) => e.trim() === "*" || strip(e) === strip(etag));
}

/** If-Match and If-None-Match, compared weakly (ARM's ETags are weak: `W/"..."`). */
function checkPreconditions(req: ArmRequest, etag: string | undefined): void {
  const ifMatch = header(req, "if-match");
  const ifNoneMatch = header(req, "if-none-match");
  const failed = (ifMatch !== undefined && (etag === undefined || !matchesAny(ifMatch, etag))) || (ifNoneMatch !== undefined && etag !== undefined && matchesAny(ifNoneMatch, etag));
  if (failed) fail(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met.");
}
