import type { AzureFirewall, NetworkManagementClient } from "@azure/arm-network";
import type { Progress } from "../driver";
import { JitError } from "../model";
import { isEmptyFirewallChange, type Firewall, type FirewallChange } from "../plan";
import type { AzureClients } from "./clients";
import { cloudError, isNotFound } from "./errors";
import { FirewallSnapshot, fromSdkFirewall, withChange } from "./firewalls";
import { FIREWALL, ResourceRef, idKey, parseResourceId, shortName } from "./ids";
import { withWriteLock } from "./locks";
import { finish, optimistic, writeOptions } from "./writes";

/** What the caller records around the write (a grant's journal, a report). */
export interface FirewallWriteHooks {
  /** Before the PUT: record the intent, so that a crash during the write leaves a trace. */
  beforeWrite?(change: FirewallChange): Promise<void>;
  /** Once the PUT has completed, with the firewall as it then is. */
  afterWrite?(change: FirewallChange, after: Firewall): Promise<void>;
}

export interface FirewallWrite {
  before: Firewall;
  after: Firewall;
}

/**
 * Refuses a firewall whose rules live in a Firewall Policy (Azure Firewall Manager, or a secured
 * virtual hub): it ignores classic rule collections, so rules written there would protect and open
 * nothing. Defender for Cloud's JIT refuses such firewalls too.
 */
export function refuseManaged(f: AzureFirewall, firewallId: string, forWhat: string): void {
  const policy = f.firewallPolicy?.id;
  const hub = f.virtualHub?.id;
  if (policy === undefined && hub === undefined) return;
  const by = policy !== undefined ? `Firewall Policy ${shortName(policy)}` : `virtual hub ${shortName(hub ?? "")}`;
  throw new JitError(
    "Unsupported",
    `Azure Firewall ${shortName(firewallId)} (${firewallId}), ${forWhat}, is managed by ${by} (Azure Firewall Manager). pulumi-jit, like Defender for Cloud's JIT, ` +
      `writes classic rule collections only, which a firewall under a Firewall Policy does not use; nothing was changed. Move the firewall to classic rules, ` +
      `or take the VM out of this policy and manage its access with the Firewall Policy's own DNAT rules.`,
  );
}

/**
 * Applies plans to one classic Azure Firewall. Azure has no endpoint per rule collection: the
 * firewall is written whole, one PUT (a long-running operation), so a stale copy written back would
 * undo whatever others changed since it was read. Every PUT therefore carries `If-Match: <the ETag
 * the plan was made from>`, and the change is applied to the firewall exactly as read, collections
 * of others included. When the write loses a race (412 because the firewall changed, 409/429
 * because another operation holds it, which may last minutes), the firewall is read again and
 * planned again (see `optimistic`, shared with the NSG writer). Writers in this process take turns
 * per firewall (the lock NSG writers use).
 */
export class FirewallWriter {
  constructor(
    private readonly clients: AzureClients,
    private readonly progress: Progress = () => undefined,
  ) {}

  /** The firewall as it is now; `NotFound` when it does not exist. */
  async read(firewallId: string): Promise<FirewallSnapshot> {
    const ref = parseResourceId(firewallId, FIREWALL);
    return this.get(await this.clients.network(ref.subscriptionId), ref, firewallId);
  }

  /** `first`: the firewall as just read (by a listing), to plan the first attempt from. */
  async apply(firewallId: string, plan: (firewall: Firewall) => FirewallChange, hooks: FirewallWriteHooks = {}, first?: FirewallSnapshot): Promise<FirewallWrite> {
    const ref = parseResourceId(firewallId, FIREWALL);
    return withWriteLock(idKey(firewallId), async () => {
      const network = await this.clients.network(ref.subscriptionId);
      const start = first ? this.named(first, firewallId) : await this.get(network, ref, firewallId);
      return optimistic<FirewallSnapshot, FirewallWrite>({
        kind: "Azure Firewall",
        id: firewallId,
        first: start,
        read: () => this.get(network, ref, firewallId),
        doing: () => `writing Azure Firewall ${firewallId}`,
        connection: this.clients.connection,
        progress: this.progress,
        step: async (current) => {
          const change = plan(current.firewall);
          if (isEmptyFirewallChange(change)) return { done: { before: start.firewall, after: current.firewall } };
          refuseManaged(current.sdk, firewallId, "where the change was to go");
          if (current.etag === undefined) {
            throw new JitError("CloudError", `Azure Firewall ${firewallId} came back without an ETag; it is written whole, and without one a write could undo somebody else's`);
          }
          await hooks.beforeWrite?.(change);
          const written = await this.put(network, ref, withChange(current.sdk, change), current.etag);
          const after = this.named(fromSdkFirewall(written), firewallId).firewall;
          await hooks.afterWrite?.(change, after);
          // One PUT carries the whole change: done, without planning against Azure's echo of it.
          return { done: { before: start.firewall, after } };
        },
      });
    });
  }

  /** Plans and records name the firewall as the caller did (ARM may answer in another case). */
  private named(snapshot: FirewallSnapshot, firewallId: string): FirewallSnapshot {
    return { ...snapshot, firewall: { ...snapshot.firewall, id: firewallId } };
  }

  private async get(network: NetworkManagementClient, ref: ResourceRef, firewallId: string): Promise<FirewallSnapshot> {
    try {
      return this.named(fromSdkFirewall(await network.azureFirewalls.get(ref.resourceGroup, ref.name)), firewallId);
    } catch (err) {
      if (isNotFound(err)) throw new JitError("NotFound", `Azure Firewall ${firewallId} does not exist`, { cause: err });
      throw cloudError(err, `reading Azure Firewall ${firewallId}`);
    }
  }

  private put(network: NetworkManagementClient, ref: ResourceRef, body: AzureFirewall, etag: string): Promise<AzureFirewall> {
    const poller = network.azureFirewalls.createOrUpdate(ref.resourceGroup, ref.name, body, writeOptions(this.clients.connection, { "If-Match": etag }));
    return finish(poller, `Azure Firewall ${ref.name} to be written (a whole-firewall update takes a while)`, this.progress);
  }
}
