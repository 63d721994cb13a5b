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
import type { Grant, Policy } from "../model";
import { missingPermissions, whoAmI } from "./authorize";
import { AWS_REQUEST_ACTIONS } from "./request-actions";
import { awsRequesterMatches } from "./requesters";
import { applyBaseline, inspectBaseline, removeBaseline } from "./baseline";
import { AwsClients } from "./clients";
import type { AwsConnection } from "./connection";
import { AwsContext, makeContext } from "./context";
import { applyGrant } from "./grant";
import { extendGrant } from "./extend";
import { reach } from "./reach";
import { restoreGrant } from "./restore";
import { sweepOrphans } from "./sweep";

/** The front door's view of AWS: each method reads EC2, asks `plan/`, and writes what it says. */
export class AwsDriver implements CloudDriver {
  readonly cloud = "aws" as const;
  readonly requestActions = AWS_REQUEST_ACTIONS;
  private readonly ctx: AwsContext;
  private caller?: Promise<Principal>;

  constructor(connection: AwsConnection = {}) {
    this.ctx = makeContext(new AwsClients(connection), connection);
  }

  /** The credentials do not change identity during the driver's life: asked once. */
  whoAmI(): Promise<Principal> {
    this.caller ??= whoAmI(this.ctx).catch((err: unknown) => {
      this.caller = undefined;
      throw err;
    });
    return this.caller;
  }

  /** A caller's token has no meaning on AWS: the broker authorises AWS callers by the policy's requesters. */
  missingPermissions(principal: Principal, vmIds: string[], actions: string[]): Promise<Map<string, string[]>> {
    return missingPermissions(this.ctx, principal, vmIds, actions);
  }

  isRequester(listed: string, principal: Principal): boolean {
    return awsRequesterMatches(listed, principal);
  }

  applyGrant(grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<void> {
    return applyGrant(this.ctx, grant, journal, progress);
  }

  restoreGrant(grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<RestoreReport> {
    return restoreGrant(this.ctx, grant, journal, progress);
  }

  sweepOrphans(scope: SweepScope, now: Date, grantStates: GrantStates, progress?: Progress): Promise<OrphanReport[]> {
    return sweepOrphans(this.ctx, scope, now, grantStates, progress);
  }

  extendGrant(grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<void> {
    return extendGrant(this.ctx, grant, journal, progress);
  }

  reach(query: ReachQuery): Promise<Reach> {
    return reach(this.ctx, query);
  }

  applyBaseline(policy: Policy, previous: BaselineRecord | undefined, options: BaselineOptions, progress?: Progress): Promise<BaselineResult> {
    return applyBaseline(this.ctx, policy, previous, options, progress);
  }

  removeBaseline(policy: Policy, baseline: BaselineRecord, progress?: Progress): Promise<void> {
    return removeBaseline(this.ctx, policy, baseline, progress);
  }

  inspectBaseline(policy: Policy, baseline: BaselineRecord): Promise<BaselineResult> {
    return inspectBaseline(this.ctx, policy, baseline);
  }

  /** Closes the SDK clients' connections (a long-lived process that is done with AWS). */
  destroy(): Promise<void> {
    return this.ctx.clients.destroy();
  }
}
