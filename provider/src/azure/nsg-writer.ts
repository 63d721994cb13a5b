import type { NetworkManagementClient } from "@azure/arm-network";
import type { Progress } from "../driver";
import { JitError } from "../model";
import type { Nsg, NsgChange, NsgRule } from "../plan";
import type { AzureClients } from "./clients";
import { armError, cloudError, isNotFound } from "./errors";
import { finish, optimistic, writeOptions } from "./writes";
import { NSG, ResourceRef, idKey, parseResourceId } from "./ids";
import { withWriteLock } from "./locks";
import { NsgSnapshot, fromSdkNsg, toSdkRule, withRule, withoutRule } from "./nsgs";

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

/**
 * Applies plans to one NSG, one security rule at a time, as child resources: never a PUT of the
 * whole NSG, which would put back an old snapshot over whatever others changed meanwhile.
 *
 * Each write is decided from the NSG as last read: `plan` is asked again after every write (on the
 * NSG as it now is), and its first put, or else its first delete, is made. A new rule is created
 * with `If-None-Match: *`, so that it never replaces one somebody else just made under that name;
 * a rule is replaced or deleted with `If-Match: <the ETag it was verified under>`, so that nothing
 * changed since is overwritten or removed. When a write loses a race, the NSG is read again and
 * planned again (see `optimistic`, shared with the firewall writer); writers in this process take
 * turns per NSG.
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

  async apply(nsgId: string, plan: (nsg: Nsg) => NsgChange, hooks: WriteHooks = {}, first?: NsgSnapshot): Promise<NsgWrite> {
    const ref = parseResourceId(nsgId, NSG);
    return withWriteLock(idKey(nsgId), async () => {
      const network = await this.clients.network(ref.subscriptionId);
      const start = first ?? (await this.get(network, ref, nsgId));
      let doing = `writing NSG ${nsgId}`;
      return optimistic<NsgSnapshot, NsgWrite>({
        kind: "NSG",
        id: nsgId,
        first: start,
        read: () => this.get(network, ref, nsgId),
        doing: () => doing,
        connection: this.clients.connection,
        progress: this.progress,
        step: async (current) => {
          const change = plan(current.nsg);
          const rule = change.put[0] as NsgRule | undefined;
          const name = rule ? undefined : change.delete[0];
          if (rule === undefined && name === undefined) return { done: { before: start.nsg, after: current.nsg } };
          // After a delete the NSG's new ETag is unknown; the next write needs it.
          if (current.etag === undefined) return { next: await this.get(network, ref, nsgId) };
          if (rule !== undefined) {
            doing = `putting rule ${rule.name} in NSG ${nsgId}`;
            const exists = current.nsg.securityRules.some((r) => idKey(r.name) === idKey(rule.name));
            await hooks.beforePut?.(rule);
            const etag = await this.put(network, ref, rule, exists ? current.etag : undefined);
            await hooks.afterPut?.(rule);
            return { next: { nsg: withRule(current.nsg, rule), ...(etag === undefined ? {} : { etag }) } };
          }
          doing = `deleting rule ${name} from NSG ${nsgId}`;
          const vanished = await this.delete(network, ref, name!, current.etag);
          await hooks.afterDelete?.(name!, vanished);
          return { next: { nsg: withoutRule(current.nsg, name!) } };
        },
      });
    });
  }

  private async get(network: NetworkManagementClient, ref: ResourceRef, nsgId: string): Promise<NsgSnapshot> {
    try {
      const snapshot = fromSdkNsg(await network.networkSecurityGroups.get(ref.resourceGroup, ref.name));
      // Plans and records name the NSG as the caller did (ARM may answer in another case).
      return { ...snapshot, nsg: { ...snapshot.nsg, id: nsgId } };
    } catch (err) {
      if (isNotFound(err)) throw new JitError("NotFound", `NSG ${nsgId} does not exist`, { cause: err });
      throw cloudError(err, `reading NSG ${nsgId}`);
    }
  }

  /** Returns the rule's new ETag, which NRP shares with its NSG. */
  private async put(network: NetworkManagementClient, ref: ResourceRef, rule: NsgRule, ifMatch: string | undefined): Promise<string | undefined> {
    const headers: Record<string, string> = ifMatch === undefined ? { "If-None-Match": "*" } : { "If-Match": ifMatch };
    const poller = network.securityRules.createOrUpdate(ref.resourceGroup, ref.name, rule.name, toSdkRule(rule), writeOptions(this.clients.connection, headers));
    return (await finish(poller, `rule ${rule.name} to be written in NSG ${ref.name}`, this.progress)).etag;
  }

  /** Returns true when the rule was already gone. */
  private async delete(network: NetworkManagementClient, ref: ResourceRef, name: string, ifMatch: string): Promise<boolean> {
    try {
      await finish(network.securityRules.delete(ref.resourceGroup, ref.name, name, writeOptions(this.clients.connection, { "If-Match": ifMatch })), `rule ${name} to be deleted from NSG ${ref.name}`, this.progress);
      return false;
    } catch (err) {
      if (armError(err).status === 404) return true;
      throw err;
    }
  }
}
