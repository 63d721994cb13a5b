import type {
  BaselineOptions,
  BaselineRecord,
  BaselineResult,
  ChangeJournal,
  CloudDriver,
  GrantStates,
  OrphanReport,
  Principal,
  Progress,
  Reach,
  ReachQuery,
  RestoreReport,
  SweepScope,
} from "../driver";
import { Grant, JitError, Policy } from "../model";
import { azureRequesterMatches, callerMissingPermissions, missingPermissionsWithToken } from "./authorize";
import { AZURE_REQUEST_ACTIONS } from "./request-actions";
import { applyBaseline, inspectBaseline, removeBaseline } from "./baseline";
import { AzureClients } from "./clients";
import { AzureConnection, resolveConnection } from "./connection";
import { applyGrant } from "./grant";
import { extendGrant } from "./extend";
import { reach } from "./reach";
import { restoreGrant, restoreGrants } from "./restore";
import { sweepOrphans } from "./sweep";
import { principalOfToken } from "./token";

const quiet: Progress = () => undefined;

/**
 * The Azure side of the front door: deny baselines and grants' allow rules in NSGs, and in the
 * classic Azure Firewall in front of a VM (a deny collection; DNAT rules), through the ARM SDKs.
 * Every method reads what it needs afresh (nothing is cached between calls), decides with `plan/`,
 * and writes with ETags: NSGs rule by rule, a firewall whole.
 */
export class AzureDriver implements CloudDriver {
  readonly cloud = "azure" as const;
  readonly requestActions = AZURE_REQUEST_ACTIONS;
  private readonly clients: AzureClients;

  constructor(connection: AzureConnection = {}) {
    this.clients = new AzureClients(resolveConnection(connection));
  }

  /** The caller, from the claims of its own access token (object id, and UPN or application id). */
  async whoAmI(): Promise<Principal> {
    const { scope } = this.clients.connection;
    let token: string | undefined;
    try {
      token = (await (await this.clients.connection.credential()).getToken(scope))?.token;
    } catch (err) {
      throw new JitError("Unauthorized", `no Azure access token for ${scope}: ${(err as Error).message}; sign in (az login), or set JIT_AZURE_TOKEN`, { cause: err });
    }
    if (!token) throw new JitError("Unauthorized", `no Azure access token for ${scope}; sign in (az login), or set JIT_AZURE_TOKEN`);
    return principalOfToken(token);
  }

  /**
   * ARM's permissions API answers for the caller only, so the principal must be the caller (as
   * `requestAccess` makes it); asking about anybody else is refused rather than answered wrongly.
   */
  async missingPermissions(principal: Principal, vmIds: string[], actions: string[], callerToken?: string): Promise<Map<string, string[]>> {
    if (callerToken !== undefined) return missingPermissionsWithToken(this.clients.connection, principal, callerToken, vmIds, actions);
    const caller = await this.whoAmI();
    if (caller.id.toLowerCase() !== principal.id.toLowerCase()) {
      throw new JitError("Unsupported", `Azure tells the caller's own permissions only; the caller is ${caller.id}, not ${principal.id}`);
    }
    return callerMissingPermissions(this.clients, vmIds, actions);
  }

  isRequester(listed: string, principal: Principal): boolean {
    return azureRequesterMatches(listed, principal);
  }

  applyGrant(grant: Grant, journal: ChangeJournal, progress: Progress = quiet, policy?: Policy, baseline?: BaselineRecord): Promise<void> {
    return applyGrant(this.clients, grant, journal, progress, policy, baseline);
  }

  restoreGrant(grant: Grant, journal: ChangeJournal, progress: Progress = quiet): Promise<RestoreReport> {
    return restoreGrant(this.clients, grant, journal, progress);
  }

  restoreGrants(items: ReadonlyArray<{ grant: Grant; journal: ChangeJournal }>, progress: Progress = quiet): Promise<Array<RestoreReport | Error>> {
    return restoreGrants(this.clients, items, progress);
  }

  sweepOrphans(scope: SweepScope, now: Date, grantStates: GrantStates, progress: Progress = quiet): Promise<OrphanReport[]> {
    return sweepOrphans(this.clients, scope, now, grantStates, progress);
  }

  extendGrant(grant: Grant, journal: ChangeJournal, progress: Progress = quiet): Promise<void> {
    return extendGrant(this.clients, grant, journal, progress);
  }

  reach(query: ReachQuery): Promise<Reach> {
    return reach(this.clients, query);
  }

  /** `options` holds AWS-only switches; Azure NSGs are per network interface or subnet and need none. */
  applyBaseline(policy: Policy, previous: BaselineRecord | undefined, _options: BaselineOptions, progress: Progress = quiet): Promise<BaselineResult> {
    return applyBaseline(this.clients, policy, previous, progress);
  }

  removeBaseline(policy: Policy, baseline: BaselineRecord, progress: Progress = quiet): Promise<void> {
    return removeBaseline(this.clients, policy, baseline, progress);
  }

  inspectBaseline(policy: Policy, baseline: BaselineRecord): Promise<BaselineResult> {
    return inspectBaseline(this.clients, policy, baseline);
  }
}
