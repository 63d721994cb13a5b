import type { EC2Client, Filter, IpPermission, SecurityGroup, SecurityGroupRule, Tag } from "@aws-sdk/client-ec2";
import type { SgInterface } from "../plan";
import { cloudError } from "./errors";

type Ec2Sdk = typeof import("@aws-sdk/client-ec2");

/** An interface and the groups it wears (ids, and names where the read gives them), as the grant and baseline code need it. */
export type InterfaceView = SgInterface;

export interface InstanceView {
  instanceId: string;
  state: string;
  interfaces: InterfaceView[];
  /** The instance's public IPv4 address, if it has one. */
  publicIp?: string;
}

/** How many instances' latest descriptions an Ec2Api keeps for `recentInstances`. */
const KEPT_READS = 10_000;

/** EC2 takes at most 200 values per filter. */
const FILTER_VALUES = 200;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The fields `NetworkInterface` and an instance's `InstanceNetworkInterface` share. */
interface InterfaceFields {
  NetworkInterfaceId?: string;
  VpcId?: string;
  Groups?: { GroupId?: string; GroupName?: string }[];
  Description?: string;
}

function interfaceView(n: InterfaceFields, instanceId: string | undefined): InterfaceView {
  return {
    networkInterfaceId: n.NetworkInterfaceId ?? "",
    vpcId: n.VpcId ?? "",
    groupIds: (n.Groups ?? []).map((g) => g.GroupId ?? ""),
    groupNames: (n.Groups ?? []).map((g) => g.GroupName ?? ""),
    ...(instanceId ? { instanceId } : {}),
    ...(n.Description ? { description: n.Description } : {}),
  };
}

/**
 * The EC2 calls pulumi-jit makes, in one region; the only code that builds EC2 commands. Reads
 * select by filter rather than by id, so that something deleted meanwhile is simply absent (ids
 * would fail the whole call) and paging is always allowed; every read follows NextToken to the end.
 * Errors come out as JitErrors naming the call and keeping the AWS error name.
 */
export class Ec2Api {
  constructor(
    readonly region: string,
    private readonly sdk: Ec2Sdk,
    private readonly client: EC2Client,
    private readonly pageSize: number,
  ) {}

  /** Each instance's latest description and when it was asked for (an instance not found has none). */
  private readonly lastRead = new Map<string, { at: number; instance: { view: InstanceView; tags: Tag[] } }>();

  private async call<T>(doing: string, send: (client: EC2Client, sdk: Ec2Sdk) => Promise<T>): Promise<T> {
    try {
      return await send(this.client, this.sdk);
    } catch (err) {
      throw cloudError(err, `${doing} in ${this.region}`);
    }
  }

  /** Every item of a Describe call, for each chunk of `values` of filter `name` (with `also` added). */
  private async describe<T>(
    name: string,
    values: readonly string[],
    also: Filter[],
    page: (filters: Filter[], token: string | undefined) => Promise<{ items: T[]; next?: string }>,
  ): Promise<T[]> {
    const out: T[] = [];
    for (const chunk of chunks([...new Set(values)], FILTER_VALUES)) {
      let token: string | undefined;
      do {
        const { items, next } = await page([{ Name: name, Values: chunk }, ...also], token);
        out.push(...items);
        token = next;
      } while (token);
    }
    return out;
  }

  /** The instances found, each with its tags; every read is kept (lastRead) for `recentInstances`. */
  private async describeInstances(instanceIds: readonly string[]): Promise<{ view: InstanceView; tags: Tag[] }[]> {
    const at = Date.now();
    const found = await this.describe("instance-id", instanceIds, [], async (Filters, NextToken) => {
      const out = await this.call("DescribeInstances", (c, sdk) => c.send(new sdk.DescribeInstancesCommand({ Filters, NextToken, MaxResults: this.pageSize })));
      const items = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => ({
        view: {
          instanceId: i.InstanceId ?? "",
          state: i.State?.Name ?? "unknown",
          ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
          interfaces: [...(i.NetworkInterfaces ?? [])]
            .sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0))
            .map((n) => interfaceView(n, i.InstanceId)),
        },
        tags: i.Tags ?? [],
      }));
      return { items, next: out.NextToken };
    });
    for (const id of instanceIds) this.lastRead.delete(id);
    for (const instance of found) this.lastRead.set(instance.view.instanceId, { at, instance });
    // Oldest first (a read moves an instance to the end): a broker up for months over a large estate keeps a bounded number.
    for (const id of this.lastRead.keys()) {
      if (this.lastRead.size <= KEPT_READS) break;
      this.lastRead.delete(id);
    }
    return found;
  }

  instances(instanceIds: readonly string[]): Promise<InstanceView[]> {
    return this.describeInstances(instanceIds).then((found) => found.map((i) => i.view));
  }

  /**
   * The instances as read at most `maxAgeMs` ago by any read here, reading now only those not read
   * since. A request reads its instances to check the caller's permissions (their tags) and then to
   * place its grant (their interfaces and groups): one read serves both. A view a moment old races
   * other writers no more than a fresh one does, since the placement's writes are refused when a
   * group it names has gone, and the placement then reads again (with `instances`).
   */
  async recentInstances(instanceIds: readonly string[], maxAgeMs: number): Promise<InstanceView[]> {
    const since = Date.now() - maxAgeMs;
    const recent: InstanceView[] = [];
    const unread: string[] = [];
    for (const id of instanceIds) {
      const read = this.lastRead.get(id);
      if (read && read.at >= since) recent.push(read.instance.view);
      else unread.push(id);
    }
    return unread.length === 0 ? recent : [...recent, ...(await this.instances(unread))];
  }

  /** Each found instance's tags, by instance id (IAM conditions on `aws:ResourceTag/…` read them). */
  async instanceTags(instanceIds: readonly string[]): Promise<Map<string, Tag[]>> {
    return new Map((await this.describeInstances(instanceIds)).map((i) => [i.view.instanceId, i.tags]));
  }

  /** Security groups with `name` in `values` (e.g. `group-id`, `tag:pulumi-jit:instance`), and more filters. */
  groups(name: string, values: readonly string[], also: Filter[] = []): Promise<SecurityGroup[]> {
    return this.describe(name, values, also, async (Filters, NextToken) => {
      const out = await this.call("DescribeSecurityGroups", (c, sdk) =>
        c.send(new sdk.DescribeSecurityGroupsCommand({ Filters, NextToken, MaxResults: this.pageSize })),
      );
      return { items: out.SecurityGroups ?? [], next: out.NextToken };
    });
  }

  /** Every rule (ingress and egress, with ids and tags) of these groups. */
  rules(groupIds: readonly string[]): Promise<SecurityGroupRule[]> {
    return this.describe("group-id", groupIds, [], async (Filters, NextToken) => {
      const out = await this.call("DescribeSecurityGroupRules", (c, sdk) =>
        c.send(new sdk.DescribeSecurityGroupRulesCommand({ Filters, NextToken, MaxResults: this.pageSize })),
      );
      return { items: out.SecurityGroupRules ?? [], next: out.NextToken };
    });
  }

  /** Interfaces with `name` in `values` (`network-interface-id`, `group-id`, ...). */
  interfaces(name: string, values: readonly string[]): Promise<InterfaceView[]> {
    return this.describe(name, values, [], async (Filters, NextToken) => {
      const out = await this.call("DescribeNetworkInterfaces", (c, sdk) =>
        c.send(new sdk.DescribeNetworkInterfacesCommand({ Filters, NextToken, MaxResults: this.pageSize })),
      );
      return { items: (out.NetworkInterfaces ?? []).map((n) => interfaceView(n, n.Attachment?.InstanceId)), next: out.NextToken };
    });
  }

  async createGroup(input: { name: string; description: string; vpcId: string; tags: Tag[] }): Promise<string> {
    const out = await this.call(`CreateSecurityGroup ${input.name}`, (c, sdk) =>
      c.send(
        new sdk.CreateSecurityGroupCommand({
          GroupName: input.name,
          Description: input.description,
          VpcId: input.vpcId,
          TagSpecifications: [{ ResourceType: "security-group", Tags: input.tags }],
        }),
      ),
    );
    return out.GroupId ?? "";
  }

  /** Authorizes ingress; the rules come back with their ids. Tags go on every rule of the call. */
  async authorize(groupId: string, permissions: IpPermission[], tags: Tag[]): Promise<SecurityGroupRule[]> {
    const out = await this.call(`AuthorizeSecurityGroupIngress on ${groupId}`, (c, sdk) =>
      c.send(
        new sdk.AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: permissions,
          ...(tags.length ? { TagSpecifications: [{ ResourceType: "security-group-rule", Tags: tags }] } : {}),
        }),
      ),
    );
    return out.SecurityGroupRules ?? [];
  }

  /**
   * Revokes rules by their ids, which names exactly those rules: by permissions, a default VPC's
   * EC2 revokes what matches and only lists the rest as unknown, so a caller could lose track of
   * what went. An unknown id fails the call (`InvalidSecurityGroupRuleId.NotFound`).
   */
  async revokeRules(groupId: string, ruleIds: string[]): Promise<void> {
    await this.call(`RevokeSecurityGroupIngress on ${groupId}`, (c, sdk) =>
      c.send(new sdk.RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds })),
    );
  }

  /** Replaces the interface's whole group list (that is what EC2 offers). */
  async setInterfaceGroups(networkInterfaceId: string, groupIds: string[]): Promise<void> {
    await this.call(`ModifyNetworkInterfaceAttribute on ${networkInterfaceId}`, (c, sdk) =>
      c.send(new sdk.ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: networkInterfaceId, Groups: groupIds })),
    );
  }

  /** Managed prefix lists by id, for what a reference to each counts as against the rules quota. */
  async prefixLists(ids: readonly string[]): Promise<Array<{ id: string; name?: string; maxEntries?: number; awsManaged: boolean }>> {
    return this.describe("prefix-list-id", ids, [], async (Filters, NextToken) => {
      const out = await this.call("DescribeManagedPrefixLists", (c, sdk) =>
        c.send(new sdk.DescribeManagedPrefixListsCommand({ Filters, NextToken, MaxResults: Math.min(this.pageSize, 100) })),
      );
      const items = (out.PrefixLists ?? []).map((l) => ({ id: l.PrefixListId ?? "", name: l.PrefixListName, maxEntries: l.MaxEntries, awsManaged: l.OwnerId === "AWS" }));
      return { items, next: out.NextToken };
    });
  }

  /** Sets tags on resources (groups, rules), replacing the values of keys they already have: the resources themselves are untouched. */
  async tag(resourceIds: string[], tags: Tag[]): Promise<void> {
    await this.call(`CreateTags on ${resourceIds.join(", ")}`, (c, sdk) => c.send(new sdk.CreateTagsCommand({ Resources: resourceIds, Tags: tags })));
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.call(`DeleteSecurityGroup ${groupId}`, (c, sdk) => c.send(new sdk.DeleteSecurityGroupCommand({ GroupId: groupId })));
  }
}
