import { applyFilters, Filterable, paginate } from "./describe";
import { AwsError, notFound } from "./errors";
import type { Operation } from "./operations";
import type { QueryNode } from "./query";
import {
  checkText,
  describeRule,
  GroupReference,
  ipPermissionsXml,
  normaliseCidr,
  normaliseProtocol,
  peerKey,
  portRange,
  readPermissions,
  revokedRuleXml,
  ruleKey,
  rulesPerFamily,
  ruleXml,
} from "./rules";
import { Ec2State, Peer, RuleSpec, SecurityGroup, SecurityGroupRule, Tags } from "./state";
import { prefixListOperations } from "./prefix-lists";
import { tagSpecifications, tagsXml } from "./tags";
import type { XmlObject } from "./xml";

/**
 * Security groups and their ingress and egress rules. Authorize is all-or-nothing: every rule of the request
 * is checked (syntax, duplicates, the per-family limit) before any is added, so a failed call adds
 * none. (Whether real EC2 can add part of a request before failing is not documented; the atomic
 * answer is the one a careful caller must be able to handle anyway.)
 */

const allTraffic = { protocol: "-1", fromPort: -1, toPort: -1 };

function groupArn(state: Ec2State, groupId: string): string {
  return `arn:aws:ec2:${state.region}:${state.accountId}:security-group/${groupId}`;
}

/**
 * Adds rules to a group, or throws having added none: a rule that already exists (description
 * aside) or appears twice, or more rules in one direction and address family than the limit.
 */
export function addRules(state: Ec2State, group: SecurityGroup, specs: RuleSpec[], tags: Tags = new Map(), ids: string[] = []): SecurityGroupRule[] {
  checkRules(state, group.rules, specs);
  const added = specs.map((spec, i) => ({ ...spec, id: ids[i] ?? state.newId("sgr"), groupId: group.id, tags: new Map(tags) }));
  group.rules.push(...added);
  return added;
}

/**
 * Throws unless `changed` can join `kept`: none already there (description aside), none twice, and
 * every direction and address family within the limit.
 */
function checkRules(state: Ec2State, kept: RuleSpec[], changed: RuleSpec[]): void {
  const seen = new Set(kept.map(ruleKey));
  const requested = new Set<string>();
  for (const spec of changed) {
    const key = ruleKey(spec);
    if (seen.has(key)) throw new AwsError("InvalidPermission.Duplicate", `the specified rule "${describeRule(spec)}" already exists`);
    if (requested.has(key)) throw new AwsError("InvalidParameterValue", "The same permission must not appear multiple times");
    requested.add(key);
  }
  for (const egress of [false, true]) {
    const { ipv4, ipv6 } = rulesPerFamily(
      [...kept, ...changed].filter((r) => r.egress === egress),
      (id) => state.prefixListWeight(id),
    );
    if (Math.max(ipv4, ipv6) > state.limits.rulesPerGroup) {
      throw new AwsError("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.");
    }
  }
}

/** A new group: no inbound rules and one outbound rule allowing all IPv4 traffic, as EC2 creates it. */
export function createGroup(state: Ec2State, vpcId: string, name: string, description: string, tags: Tags = new Map(), id = state.newId("sg")): SecurityGroup {
  checkText(name, "group name");
  checkText(description, "group description");
  if (name.startsWith("sg-")) throw new AwsError("InvalidParameterValue", "Group names may not be in the format sg-*");
  const vpc = state.vpc(vpcId);
  if ([...state.groups.values()].some((g) => g.vpcId === vpc.id && g.name === name)) {
    throw new AwsError("InvalidGroup.Duplicate", `The security group '${name}' already exists for VPC '${vpc.id}'`);
  }
  const group: SecurityGroup = { id, name, description, vpcId, rules: [], tags };
  state.groups.set(group.id, group);
  addRules(state, group, [{ egress: true, ...allTraffic, peer: { kind: "ipv4", cidr: "0.0.0.0/0" } }]);
  return group;
}

/** A VPC's default group, which also admits all traffic from its own members. */
export function createDefaultGroup(state: Ec2State, vpcId: string, id?: string): SecurityGroup {
  const group = createGroup(state, vpcId, "default", "default VPC security group", new Map(), id);
  addRules(state, group, [{ egress: false, ...allTraffic, peer: { kind: "group", groupId: group.id, userId: state.accountId } }]);
  return group;
}

export function groupPeer(state: Ec2State, owner: SecurityGroup, ref: GroupReference): Peer {
  const referenced =
    ref.groupId !== undefined
      ? state.group(ref.groupId)
      : [...state.groups.values()].find((g) => g.vpcId === owner.vpcId && g.name === ref.groupName);
  if (!referenced) throw new AwsError("InvalidGroup.NotFound", `The security group '${ref.groupName ?? ""}' does not exist`);
  if (referenced.vpcId !== owner.vpcId) throw new AwsError("InvalidParameter", "You have specified two resources that belong to different networks.");
  return { kind: "group", groupId: referenced.id, userId: ref.userId ?? state.accountId };
}

export function prefixListPeer(state: Ec2State, id: string): Peer {
  return { kind: "prefixList", prefixListId: state.prefixList(id).id };
}

function ruleSpecs(state: Ec2State, group: SecurityGroup, req: QueryNode, egress: boolean): RuleSpec[] {
  const specs = readPermissions(req, egress, { group: (ref) => groupPeer(state, group, ref), prefixList: (id) => prefixListPeer(state, id) });
  if (specs.length === 0) throw new AwsError("MissingParameter", "The request must contain the parameter ipPermissions");
  return specs;
}

function groupXml(state: Ec2State, group: SecurityGroup): XmlObject {
  return {
    ownerId: state.accountId,
    groupName: group.name,
    groupDescription: group.description,
    groupId: group.id,
    ipPermissions: ipPermissionsXml(group.rules.filter((r) => !r.egress)),
    ipPermissionsEgress: ipPermissionsXml(group.rules.filter((r) => r.egress)),
    vpcId: group.vpcId,
    securityGroupArn: groupArn(state, group.id),
    tagSet: group.tags.size > 0 ? tagsXml(group.tags) : undefined,
  };
}

/** `ip-permission.*` filters, and their `egress.ip-permission.*` twins, over a group's rules. */
function permissionFilters(prefix: string, egress: boolean): Filterable<SecurityGroup>["fields"] {
  const values = (pick: (r: SecurityGroupRule) => string | number | undefined) => (g: SecurityGroup) =>
    g.rules.filter((r) => r.egress === egress).map(pick);
  const peer = (kind: Peer["kind"]) => values((r) => (r.peer.kind === kind ? peerKey(r.peer) : undefined));
  return {
    [`${prefix}.protocol`]: values((r) => r.protocol),
    [`${prefix}.from-port`]: values((r) => r.fromPort),
    [`${prefix}.to-port`]: values((r) => r.toPort),
    [`${prefix}.cidr`]: peer("ipv4"),
    [`${prefix}.ipv6-cidr`]: peer("ipv6"),
    [`${prefix}.group-id`]: peer("group"),
    [`${prefix}.prefix-list-id`]: peer("prefixList"),
  };
}

function groupFilters(state: Ec2State): Filterable<SecurityGroup> {
  return {
    fields: {
      "group-id": (g) => g.id,
      "group-name": (g) => g.name,
      description: (g) => g.description,
      "vpc-id": (g) => g.vpcId,
      "owner-id": () => state.accountId,
      ...permissionFilters("ip-permission", false),
      ...permissionFilters("egress.ip-permission", true),
    },
    tags: (g) => g.tags,
  };
}

const ruleFilters: Filterable<SecurityGroupRule> = {
  fields: { "group-id": (r) => r.groupId, "security-group-rule-id": (r) => r.id },
  tags: (r) => r.tags,
};

/**
 * The group a rule call names. Egress calls name it by id only: EC2's egress actions have no
 * `GroupName`, and the SDK sends none.
 */
function ruleGroup(state: Ec2State, req: QueryNode, egress: boolean): SecurityGroup {
  if (egress && req.str("GroupId") === undefined) throw new AwsError("MissingParameter", "The request must contain the parameter groupId");
  return state.groupByIdOrName(req.str("GroupId"), egress ? undefined : req.str("GroupName"));
}

function authorize(egress: boolean): Operation {
  return {
    write: true,
    handle({ state }, req) {
      const group = ruleGroup(state, req, egress);
      const added = addRules(state, group, ruleSpecs(state, group, req, egress), tagSpecifications(req, "security-group-rule"));
      return { return: true, securityGroupRuleSet: added.map((r) => ruleXml(r, state.accountId, state.region)) };
    },
  };
}

/**
 * By rule ids, or by permissions that must match existing rules of that direction (descriptions
 * aside). An unmatched permission fails the whole call in a non-default VPC
 * (`InvalidPermission.NotFound`, nothing revoked); in the default VPC the matched rules go and the
 * rest come back as `UnknownIpPermissions`.
 */
function revoke(egress: boolean): Operation {
  return {
    write: true,
    handle({ state }, req) {
      const group = ruleGroup(state, req, egress);
      const ruleIds = req.strings("SecurityGroupRuleId");
      let revoked: SecurityGroupRule[];
      let unknown: RuleSpec[] = [];
      if (ruleIds.length > 0) {
        if (req.has("IpPermissions") || req.has("IpProtocol")) {
          throw new AwsError("InvalidParameterCombination", "The parameter SecurityGroupRuleIds cannot be used with the parameter IpPermissions");
        }
        revoked = ruleIds.map((id) => {
          const rule = state.rule(id);
          if (rule.groupId !== group.id || rule.egress !== egress) throw notFound("InvalidSecurityGroupRuleId.NotFound", "security group rule ID", id);
          return rule;
        });
      } else {
        const byKey = new Map(group.rules.map((r) => [ruleKey(r), r]));
        const specs = ruleSpecs(state, group, req, egress);
        revoked = specs.flatMap((s) => byKey.get(ruleKey(s)) ?? []);
        unknown = specs.filter((s) => !byKey.has(ruleKey(s)));
        if (unknown.length > 0 && !state.vpc(group.vpcId).isDefault) {
          throw new AwsError("InvalidPermission.NotFound", "The specified rule does not exist in this security group.");
        }
      }
      const gone = new Set(revoked);
      group.rules = group.rules.filter((r) => !gone.has(r));
      return {
        return: true,
        unknownIpPermissionSet: unknown.length > 0 ? ipPermissionsXml(unknown) : undefined,
        revokedSecurityGroupRuleSet: [...gone].map(revokedRuleXml),
      };
    },
  };
}

/** A rule of `group` in the given direction, by id. */
function ownRule(state: Ec2State, group: SecurityGroup, id: string, egress?: boolean): SecurityGroupRule {
  const rule = state.rule(id);
  if (rule.groupId !== group.id || (egress !== undefined && rule.egress !== egress)) throw notFound("InvalidSecurityGroupRuleId.NotFound", "security group rule ID", id);
  return rule;
}

/** `SecurityGroupRuleRequest`: one protocol and port range, and exactly one peer. */
function ruleRequest(state: Ec2State, group: SecurityGroup, egress: boolean, node: QueryNode): RuleSpec {
  const protocol = normaliseProtocol(node.required("IpProtocol"));
  const [fromPort, toPort] = portRange(protocol, node.int("FromPort"), node.int("ToPort"));
  const peers: Peer[] = [
    ...(node.str("CidrIpv4") === undefined ? [] : [{ kind: "ipv4" as const, cidr: normaliseCidr(node.required("CidrIpv4"), "ipv4") }]),
    ...(node.str("CidrIpv6") === undefined ? [] : [{ kind: "ipv6" as const, cidr: normaliseCidr(node.required("CidrIpv6"), "ipv6") }]),
    ...(node.str("PrefixListId") === undefined ? [] : [prefixListPeer(state, node.required("PrefixListId"))]),
    ...(node.str("ReferencedGroupId") === undefined ? [] : [groupPeer(state, group, { groupId: node.required("ReferencedGroupId") })]),
  ];
  if (peers.length !== 1) throw new AwsError("InvalidParameterCombination", "Exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupId must be given.");
  const [peer] = peers;
  const description = node.str("Description");
  const reference = peer.kind === "group" || peer.kind === "prefixList";
  return { egress, protocol, fromPort, toPort, peer, description: description === undefined ? undefined : checkText(description, "rule description", reference) };
}

/**
 * Sets the descriptions of rules named by permission (each must match a rule, descriptions aside;
 * one without a description clears it) or by rule id; nothing changes if any is not found.
 */
function updateDescriptions(egress: boolean): Operation {
  return {
    write: true,
    handle({ state }, req) {
      const group = ruleGroup(state, req, egress);
      const byKey = new Map(group.rules.map((r) => [ruleKey(r), r]));
      const byPermission = req.has("IpPermissions")
        ? ruleSpecs(state, group, req, egress).map((spec) => {
            const rule = byKey.get(ruleKey(spec));
            if (!rule) throw new AwsError("InvalidPermission.NotFound", "The specified rule does not exist in this security group.");
            return { rule, description: spec.description };
          })
        : [];
      const byId = req.list("SecurityGroupRuleDescription").map((d) => {
        const rule = ownRule(state, group, d.required("SecurityGroupRuleId"), egress);
        const description = d.str("Description");
        return { rule, description: description === undefined ? undefined : checkText(description, "rule description", rule.peer.kind !== "ipv4" && rule.peer.kind !== "ipv6") };
      });
      const updates = [...byPermission, ...byId];
      if (updates.length === 0) throw new AwsError("MissingParameter", "The request must contain the parameter ipPermissions or securityGroupRuleDescriptions");
      for (const { rule, description } of updates) rule.description = description;
      return { return: true };
    },
  };
}

export const securityGroupOperations: Record<string, Operation> = {
  ...prefixListOperations,

  CreateSecurityGroup: {
    write: true,
    handle({ state }, req) {
      const [name, description] = [req.required("GroupName"), req.required("GroupDescription")];
      const vpcId = req.str("VpcId") ?? state.defaultVpc()?.id;
      if (vpcId === undefined) throw new AwsError("VPCIdNotSpecified", "No default VPC for this user");
      const group = createGroup(state, vpcId, name, description, tagSpecifications(req, "security-group"));
      state.created(group.id);
      return { groupId: group.id, tagSet: group.tags.size > 0 ? tagsXml(group.tags) : undefined, securityGroupArn: groupArn(state, group.id) };
    },
  },

  DeleteSecurityGroup: {
    write: true,
    handle({ state }, req) {
      const group = state.groupByIdOrName(req.str("GroupId"), req.str("GroupName"));
      if (group.name === "default") throw new AwsError("CannotDelete", `the specified group: "${group.id}" name: "default" cannot be deleted by a user`);
      if (state.interfacesWithGroup(group.id).length > 0 || state.referencingGroups(group.id).length > 0) {
        throw new AwsError("DependencyViolation", `resource ${group.id} has a dependent object`);
      }
      state.groups.delete(group.id);
      return { return: true, groupId: group.id };
    },
  },

  UpdateSecurityGroupRuleDescriptionsIngress: updateDescriptions(false),
  UpdateSecurityGroupRuleDescriptionsEgress: updateDescriptions(true),

  /** Rewrites rules in place, keeping their ids, tags and direction; all or none. */
  ModifySecurityGroupRules: {
    write: true,
    handle({ state }, req) {
      const group = state.group(req.required("GroupId"));
      const updates = req.list("SecurityGroupRule");
      if (updates.length === 0) throw new AwsError("MissingParameter", "The request must contain the parameter SecurityGroupRules");
      const changes = updates.map((u) => {
        const rule = ownRule(state, group, u.required("SecurityGroupRuleId"));
        if (!u.has("SecurityGroupRule")) throw new AwsError("MissingParameter", "The request must contain the parameter SecurityGroupRule");
        return { rule, spec: ruleRequest(state, group, rule.egress, u.at("SecurityGroupRule")) };
      });
      const changed = new Set(changes.map((c) => c.rule));
      checkRules(state, group.rules.filter((r) => !changed.has(r)), changes.map((c) => c.spec));
      for (const { rule, spec } of changes) Object.assign(rule, spec);
      return { return: true };
    },
  },

  AuthorizeSecurityGroupIngress: authorize(false),
  AuthorizeSecurityGroupEgress: authorize(true),
  RevokeSecurityGroupIngress: revoke(false),
  RevokeSecurityGroupEgress: revoke(true),

  DescribeSecurityGroups: {
    write: false,
    handle({ state }, req) {
      let groups = [...new Set(req.strings("GroupId"))].map((id) => state.group(id));
      if (groups.length === 0) groups = state.listedGroups();
      const names = req.strings("GroupName");
      if (names.length > 0) {
        const vpcId = state.defaultVpc()?.id;
        for (const name of names) {
          if (!groups.some((g) => g.vpcId === vpcId && g.name === name)) {
            throw new AwsError("InvalidGroup.NotFound", `The security group '${name}' does not exist in default VPC '${vpcId ?? "none"}'`);
          }
        }
        groups = groups.filter((g) => g.vpcId === vpcId && names.includes(g.name));
      }
      const page = paginate(applyFilters(groups, req, groupFilters(state)), req, "DescribeSecurityGroups", "GroupId");
      return { securityGroupInfo: page.items.map((g) => groupXml(state, g)), nextToken: page.nextToken };
    },
  },

  DescribeSecurityGroupRules: {
    write: false,
    handle({ state }, req) {
      const ids = [...new Set(req.strings("SecurityGroupRuleId"))];
      const rules = ids.length > 0 ? ids.map((id) => state.rule(id)) : state.listedGroups().flatMap((g) => g.rules);
      const page = paginate(applyFilters(rules, req, ruleFilters), req, "DescribeSecurityGroupRules");
      return { securityGroupRuleSet: page.items.map((r) => ruleXml(r, state.accountId, state.region)), nextToken: page.nextToken };
    },
  },
};
