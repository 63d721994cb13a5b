import type { NetworkManagementClient } from "@azure/arm-network";
import type { PipelineResponse } from "@azure/core-rest-pipeline";
import type { Progress } from "../driver";
import { JitError, isJitError } from "../model";
import { checkNsgLimits, type Nsg, type NsgChange, type NsgRule } from "../plan";
import type { AzureClients } from "./clients";
import { cloudError, isNotFound } from "./errors";
import { awaitOperation, optimistic, writeOptions } from "./writes";
import { NSG, ResourceRef, idKey, parseResourceId } from "./ids";
import { withWriteLock } from "./locks";
import { NsgSnapshot, fromSdkNsg, nsgWithChange, withChange } from "./nsgs";

/** What the caller records around each write (a grant's journal, a report). */
export interface WriteHooks {
  /** Before a rule is put: record the intent, so that a crash during the write leaves a trace. */
  beforePut?(rule: NsgRule): Promise<void>;
  afterPut?(rule: NsgRule): Promise<void>;
  /** After a rule is deleted; `vanished` when somebody else deleted it first. */
  afterDelete?(name: string, vanished: boolean): Promise<void>;
}

export interface NsgWrite {
  /** The NSG as first read. */
  before: Nsg;
  /** The NSG as it is once the writes are done (as far as this writer knows). */
  after: Nsg;
}

/** One caller's plan for an NSG, waiting for the NSG's next write. */
interface Job {
  plan: (nsg: Nsg) => NsgChange;
  hooks: WriteHooks;
  first?: NsgSnapshot;
  resolve(write: NsgWrite): void;
  reject(err: unknown): void;
}

/** Plans waiting per NSG, per set of clients (plans made with other credentials are never written together). */
const WAITING = new WeakMap<AzureClients, Map<string, Job[]>>();

/**
 * When each snapshot was taken (read, or left by a write of ours), in order: a write starts from
 * the newest state known, so that a plan handed a snapshot read before another write of ours does
 * not earn a certain 412.
 */
const TAKEN = new WeakMap<NsgSnapshot, number>();
let clock = 0;
const taken = (snapshot: NsgSnapshot): NsgSnapshot => (TAKEN.set(snapshot, ++clock), snapshot);
/** When a write of ours to each NSG (by idKey) last completed, on the same clock: a snapshot taken before then has a stale ETag. */
const WRITTEN = new Map<string, number>();

/**
 * Applies plans to an NSG in one write of the whole NSG per pass: every rule the plan puts and
 * every rule it deletes, together, under `If-Match: <the ETag the plan was made on>`. A write of the
 * whole NSG sends back every other rule exactly as read, and the ETag makes ARM refuse it (412)
 * when anything changed since the read, so nothing somebody else wrote meanwhile is overwritten or
 * lost: the NSG is then read again and planned again (see `optimistic`, shared with the firewall
 * writer). One write per NSG is also the floor of what Azure charges: each write holds the NSG's
 * lock and waits ~10 s for its operation, however many rules it carries.
 *
 * Writers in this process take turns per NSG, and plans that wait for their turn are written
 * together: each is planned on the NSG as the ones before it left it, and one write carries them
 * all, so that many grants, restores or sweeps of one NSG at once cost one write, not one each.
 * When such a shared write fails for a reason other than losing races (a rule ARM rejects, a plan
 * that throws), each plan is written on its own, so that one bad plan fails alone.
 */
export class NsgWriter {
  constructor(
    private readonly clients: AzureClients,
    private readonly progress: Progress = () => undefined,
  ) {}

  /** The NSG as it is now; `NotFound` when it does not exist. */
  async read(nsgId: string): Promise<NsgSnapshot> {
    const ref = parseResourceId(nsgId, NSG);
    return this.get(await this.clients.network(ref.subscriptionId), ref, nsgId);
  }

  /**
   * Writes what `plan` asks of the NSG, planned on the NSG as read (or as `first`, when the caller
   * has just listed it); `plan` is asked again after the write and must then ask for nothing more.
   */
  apply(nsgId: string, plan: (nsg: Nsg) => NsgChange, hooks: WriteHooks = {}, first?: NsgSnapshot): Promise<NsgWrite> {
    const key = idKey(nsgId);
    const byNsg = WAITING.get(this.clients) ?? new Map<string, Job[]>();
    WAITING.set(this.clients, byNsg);
    const waiting = byNsg.get(key) ?? [];
    byNsg.set(key, waiting);
    const result = new Promise<NsgWrite>((resolve, reject) => waiting.push({ plan, hooks, ...(first ? { first } : {}), resolve, reject }));
    void withWriteLock(key, async () => {
      // Whoever's turn it is writes every plan waiting by then; later turns find none left.
      const jobs = waiting.splice(0);
      if (waiting.length === 0 && byNsg.get(key) === waiting) byNsg.delete(key);
      if (jobs.length > 0) await this.writeAll(nsgId, jobs);
    });
    return result;
  }

  private async writeAll(nsgId: string, jobs: Job[]): Promise<void> {
    try {
      const writes = await this.write(nsgId, jobs);
      jobs.forEach((job, i) => job.resolve(writes[i]));
    } catch (err) {
      if (jobs.length === 1 || isJitError(err, "Conflict")) {
        for (const job of jobs) job.reject(err);
        return;
      }
      for (const job of jobs) await this.writeAll(nsgId, [job]);
    }
  }

  /** One write of the NSG for all `jobs` (repeated on lost races); each job's hooks see only its own rules. */
  private async write(nsgId: string, jobs: readonly Job[]): Promise<NsgWrite[]> {
    const ref = parseResourceId(nsgId, NSG);
    const network = await this.clients.network(ref.subscriptionId);
    // Not our own last write: NRP gives the NSG a new ETag when the write's operation completes, so
    // the ETag a PUT answers with is stale by then. The newest read a caller brings, else a read.
    // A caller's read made while a write of ours was under way (another request's, just before this
    // turn) is stale too: read again rather than earn a certain 412.
    const key = idKey(nsgId);
    const known = jobs.map((j) => j.first).filter((s): s is NsgSnapshot => s !== undefined && (TAKEN.get(s) ?? 0) > (WRITTEN.get(key) ?? 0));
    const newest = known.sort((a, b) => (TAKEN.get(b) ?? 0) - (TAKEN.get(a) ?? 0))[0];
    const start = newest ?? (await this.get(network, ref, nsgId));
    let doing = `writing NSG ${nsgId}`;
    // The NSG as it was before our first write landed: what callers compare their records with.
    let before = start.nsg;
    let wrote = false;
    const read = async () => {
      const fresh = await this.get(network, ref, nsgId);
      if (!wrote) before = fresh.nsg;
      return fresh;
    };
    return optimistic<NsgSnapshot, NsgWrite[]>({
      kind: "NSG",
      id: nsgId,
      first: start,
      read,
      doing: () => doing,
      connection: this.clients.connection,
      progress: this.progress,
      step: async (current) => {
        const changes = planInTurn(jobs, current.nsg);
        const combined = combine(changes, current.nsg, nsgId);
        const after = nsgWithChange(current.nsg, combined);
        if (combined.put.length === 0 && combined.delete.length === 0) {
          return { done: jobs.map(() => ({ before, after: current.nsg })) };
        }
        // Azure's per-NSG limits, before the write: one ARM would refuse costs a write and its poll.
        checkNsgLimits(current.nsg, after);
        if (current.etag === undefined) throw new JitError("CloudError", `NSG ${nsgId} came back without an ETag, so it cannot be written safely`);
        doing = `writing ${describeChange(combined)} in NSG ${nsgId}`;
        for (const [i, job] of jobs.entries()) for (const rule of changes[i].put) await job.hooks.beforePut?.(rule);
        const etag = await this.put(network, ref, withChange(current.sdk, combined), current.etag, describeChange(combined));
        WRITTEN.set(key, ++clock);
        wrote = true;
        for (const [i, job] of jobs.entries()) {
          for (const rule of changes[i].put) await job.hooks.afterPut?.(rule);
          for (const name of changes[i].delete) await job.hooks.afterDelete?.(name, false);
        }
        return { next: taken({ nsg: after, sdk: withChange(current.sdk, combined), ...(etag === undefined ? {} : { etag }) }) };
      },
    });
  }

  private async get(network: NetworkManagementClient, ref: ResourceRef, nsgId: string): Promise<NsgSnapshot> {
    try {
      const snapshot = fromSdkNsg(await network.networkSecurityGroups.get(ref.resourceGroup, ref.name));
      // Plans and records name the NSG as the caller did (ARM may answer in another case).
      return taken({ ...snapshot, nsg: { ...snapshot.nsg, id: nsgId } });
    } catch (err) {
      if (isNotFound(err)) throw new JitError("NotFound", `NSG ${nsgId} does not exist`, { cause: err });
      throw cloudError(err, `reading NSG ${nsgId}`);
    }
  }

  /** Writes the whole NSG under `If-Match` and waits for the operation; returns the NSG's new ETag. */
  private async put(network: NetworkManagementClient, ref: ResourceRef, body: Parameters<NetworkManagementClient["networkSecurityGroups"]["createOrUpdate"]>[2], ifMatch: string, what: string): Promise<string | undefined> {
    let accepted: PipelineResponse | undefined;
    const options = { ...writeOptions(this.clients.connection, { "If-Match": ifMatch }), onResponse: (response: PipelineResponse) => (accepted ??= response) };
    await network.networkSecurityGroups.createOrUpdate(ref.resourceGroup, ref.name, body, options).submitted();
    if (accepted === undefined) throw new JitError("CloudError", `writing NSG ${ref.name}: no answer to the write`);
    await awaitOperation(network.pipeline, accepted, this.clients.connection, `${what} in NSG ${ref.name}`, this.progress);
    const written = (accepted as { parsedBody?: { etag?: unknown } }).parsedBody;
    return typeof written?.etag === "string" ? written.etag : undefined;
  }
}

/** Each job's change, planned on the NSG as the jobs before it leave it. */
function planInTurn(jobs: readonly Job[], nsg: Nsg): NsgChange[] {
  let current = nsg;
  return jobs.map((job) => {
    const change = job.plan(current);
    current = nsgWithChange(current, change);
    return change;
  });
}

/** The jobs' changes as one: the last word on each rule they touch (rules nobody touches are not in it). */
function combine(changes: readonly NsgChange[], nsg: Nsg, nsgId: string): NsgChange {
  const key = (name: string) => name.toLowerCase();
  const last = new Map<string, NsgRule | string>();
  for (const change of changes) {
    for (const name of change.delete) last.set(key(name), name);
    for (const rule of change.put) last.set(key(rule.name), rule);
  }
  const present = new Set(nsg.securityRules.map((r) => key(r.name)));
  const put: NsgRule[] = [];
  const deleted: string[] = [];
  for (const [k, v] of last) {
    if (typeof v !== "string") put.push(v);
    else if (present.has(k)) deleted.push(v);
  }
  return { nsgId, put, delete: deleted };
}

function describeChange(change: NsgChange): string {
  const parts = [change.put.length ? `${change.put.length} rule(s) put` : "", change.delete.length ? `${change.delete.length} rule(s) deleted` : ""];
  return parts.filter(Boolean).join(" and ");
}
