import type { Change, Cloud, Grant, Policy, Protocol } from "../model";

/**
 * What the front door (`requestAccess`, `revokeAccess`, `sweep`, the Pulumi resources and the CLI)
 * needs from a cloud. One implementation per cloud (`azure/`, `aws/`); each reads the cloud, asks
 * `plan/` what to do, and does it. Drivers hold SDK clients, so they are made inside provider
 * methods and CLI commands, never captured in anything that Pulumi serialises.
 */
export interface CloudDriver {
  readonly cloud: Cloud;

  /** The identity the driver's credentials act as (Azure object id or UPN; AWS ARN). */
  whoAmI(): Promise<Principal>;

  /**
   * The cloud's own actions a requester must hold on each VM: `direct` when the requester's own
   * credentials write (`requestAccess` without a broker), `brokered` when the broker writes and the
   * caller only asks. An empty list means the cloud has nothing to check, and the policy's
   * `requesters` decide alone.
   */
  readonly requestActions: { readonly direct: readonly string[]; readonly brokered: readonly string[] };

  /** Whether an entry of a policy's `requesters` names the principal, as the cloud spells identities (and patterns). */
  isRequester(listed: string, principal: Principal): boolean;

  /**
   * The actions `principal` lacks on each VM (empty lists when it has them all). Azure asks the
   * ARM permissions API at the VM's scope; AWS simulates the principal's IAM policies against the
   * instance ARN. With `callerToken` (the broker's caller's own access token), the question is
   * asked with that token, for that caller: the token is used for this one read and nothing else.
   */
  missingPermissions(principal: Principal, vmIds: string[], actions: string[], callerToken?: string): Promise<Map<string, string[]>>;

  /**
   * Opens the grant's ports. Every change is journalled as intended before the cloud is touched,
   * and as applied once it is, so that a crash at any point leaves a record `restoreGrant` and
   * `sweep` can finish from. Must resume cleanly from a grant that already has changes. `policy`
   * is the policy the grant was checked against, for what it says about the way to a VM (Azure:
   * the firewall in front of it, by `publicIpAddress`); `baseline` is what its last apply recorded
   * (Azure: where each VM was found, so that a grant need not read it all again).
   */
  applyGrant(grant: Grant, journal: ChangeJournal, progress?: Progress, policy?: Policy, baseline?: BaselineRecord): Promise<void>;

  /**
   * Removes exactly what the grant's changes recorded, verified against the record, and nothing
   * else; journals each removal. Idempotent: changes already gone are marked removed.
   */
  restoreGrant(grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<RestoreReport>;

  /**
   * `restoreGrant` for many grants at once, where the cloud can do them together (Azure: one write
   * per NSG for all of them). One result per grant, in order: its report, or the error that grant
   * alone failed with.
   */
  restoreGrants?(items: ReadonlyArray<{ grant: Grant; journal: ChangeJournal }>, progress?: Progress): Promise<Array<RestoreReport | Error>>;

  /**
   * Finds rules and groups of ours straight from the cloud, by the grant id and expiry stamped on
   * them, and removes those whose expiry has passed or whose grant the ledger knows has ended. A
   * rule whose grant the ledger does not know is left alone until its stamped expiry: it may
   * belong to a grant made elsewhere.
   */
  sweepOrphans(scope: SweepScope, now: Date, grantStates: GrantStates, progress?: Progress): Promise<OrphanReport[]>;

  /**
   * Moves the expiry stamped on the grant's rules and groups to its new ends, in place (Azure: the
   * same rule put again with a new description under the NSG's ETag; AWS: the rules' tags), so
   * that the rules are never absent. `grant` carries the new ends. Journals what it rewrites.
   */
  extendGrant?(grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<void>;

  /**
   * Where `source` connects to reach a port of a VM, and whether every rule on the way lets it in
   * now: the VM's public address, or (`via`) the firewall address and port a grant mapped to it.
   * Read-only; `jit ssh` and `jit connect` ask it until the grant's rule is in effect.
   */
  reach?(query: ReachQuery): Promise<Reach>;

  /** Places (or brings up to date) the policy's deny baseline. `previous` is what an earlier apply recorded. */
  applyBaseline(policy: Policy, previous: BaselineRecord | undefined, options: BaselineOptions, progress?: Progress): Promise<BaselineResult>;

  /** Takes the baseline away again, restoring what it revoked (AWS) or deleting its deny rules (Azure). */
  removeBaseline(policy: Policy, baseline: BaselineRecord, progress?: Progress): Promise<void>;

  /** Compares the cloud with the recorded baseline: what is missing, altered or re-opened. Read-only. */
  inspectBaseline(policy: Policy, baseline: BaselineRecord): Promise<BaselineResult>;
}

export interface ReachQuery {
  vmId: string;
  port: number;
  protocol: Protocol;
  /** The caller's address (or the grant's source prefix). */
  source: string;
  /** The firewall's public address and the port a grant mapped there to the VM's port (`firewallMapping`). */
  via?: { address: string; port: number };
}

export interface Reach {
  /** The address to connect to; undefined when the VM has no public address. */
  host?: string;
  port: number;
  /** Whether every NSG, firewall or security group on the way admits the flow now. */
  allowed: boolean;
  /** What decided, in words: the rule that blocks, or why there is no address. */
  detail: string;
}

export interface Principal {
  /** The stable id used for authorisation and requester lists (Azure object id, AWS ARN). */
  id: string;
  /** A readable name where one is known (UPN, role session name). */
  name?: string;
}

export interface ChangeJournal {
  /** Persists changes as intended; call before any of them is written to the cloud. */
  intend(changes: Change[]): Promise<void>;
  /** Persists a change's new status (applied / removed), matched to the recorded one by `changeKey`. */
  update(change: Change): Promise<void>;
}

/** What the ledger says of a grant whose rule was found in the cloud. */
export type KnownGrantState = "live" | "ended" | "unknown";

/**
 * What the ledger says of the grants that rules found in the cloud name, asked for a batch of ids
 * at a time (those one container's rules name): a sweep looks up what it finds, never the ledger's
 * whole history.
 */
export type GrantStates = (grantIds: readonly string[]) => Promise<(grantId: string) => KnownGrantState>;

/**
 * The states of the grants `plan` asks about, looked up together: which those are is found by
 * planning once with every grant unknown (a plan asks only about rules whose stamp has not
 * already decided).
 */
export async function statesAsked(grantStates: GrantStates, plan: (state: (grantId: string) => KnownGrantState) => unknown): Promise<(grantId: string) => KnownGrantState> {
  const asked = new Set<string>();
  plan((grantId) => {
    asked.add(grantId);
    return "unknown";
  });
  return asked.size === 0 ? () => "unknown" : grantStates([...asked]);
}

export type Progress = (message: string) => void;

export interface RestoreReport {
  removed: number;
  /** Changes that were already gone (someone else removed them). */
  alreadyGone: number;
  /** Things found under our name that differ from the record: left in place and reported. */
  mismatches: string[];
}

/** Where `sweep` looks for orphans: Azure subscriptions, AWS regions. */
export interface SweepScope {
  azureSubscriptions?: string[];
  awsRegions?: string[];
}

export interface OrphanReport {
  cloud: Cloud;
  /** The NSG or security group it was found in. */
  container: string;
  /** The rule or group name. */
  name: string;
  grantId?: string;
  expiredAt?: string;
  action: "removed" | "failed";
  error?: string;
}

export interface BaselineOptions {
  /** AWS: change security groups that instances outside the policy also use. */
  allowSharedSecurityGroups?: boolean;
}

/** What the baseline placed or revoked, as the driver needs it to inspect and undo it; JSON, no secrets. */
export type BaselineRecord = Record<string, unknown>;

export interface VmBaselineStatus {
  vmId: string;
  /** protected: every selected port is closed; exposed: a rule outside our control still admits it; notApplicable: nothing to put a rule in. */
  status: "protected" | "exposed" | "notApplicable";
  /** Why, in a sentence: which rule exposes which port, or why nothing applies. */
  detail?: string;
}

export interface BaselineResult {
  record: BaselineRecord;
  vms: VmBaselineStatus[];
  /** Rules we placed (Azure deny rules) or revoked (AWS), for outputs and tables. */
  rules: BaselineRule[];
  /** Drift found while applying or inspecting (missing or altered deny rule, re-opened port). */
  drift: string[];
  warnings: string[];
}

export interface BaselineRule {
  /** NSG id or security group id. */
  container: string;
  name: string;
  priority?: number;
  ports: number[];
  action: "deny" | "revoked" | "split";
}
