import { AwsError } from "./errors";
import { Decision, RequestContext, evaluate } from "./policy";
import type { Principal, Principals } from "./principals";
import type { ServiceName } from "./protocol";
import type { QueryNode } from "./query";
import type { Ec2State, Instance, NetworkInterface, Tags } from "./state";

/**
 * IAM's evaluation of each call against the caller's identity policies. Following the AWS Service
 * Authorization Reference, an EC2 action is authorised on every resource it touches, each with its
 * own condition keys: CreateSecurityGroup on the new group (`aws:RequestTag/…`, `aws:TagKeys`) and
 * on the VPC (`aws:ResourceTag/…`); AuthorizeSecurityGroupIngress on the group and, when it tags the
 * new rules, on the rules; ModifyNetworkInterfaceAttribute on the interface, the groups it is given
 * and the instance it is attached to; a create that tags also needs `ec2:CreateTags` with
 * `ec2:CreateAction`; RunInstances on the new instance and interface, the image, the subnets and
 * groups. Describe actions have no resource-level permissions (`*`). Every resource
 * must be allowed; the first refused one is reported, with an encoded message that
 * `sts:DecodeAuthorizationMessage` turns back into the decision and its context.
 */
export interface Authorization {
  action: string;
  resource: string;
  context: RequestContext;
}

type Entries = [string, string[]][];

const tagEntries = (prefixes: string[], tags: Tags | undefined): Entries =>
  [...(tags ?? new Map<string, string>())].flatMap(([k, v]) => prefixes.map((p): [string, string[]] => [`${p}/${k}`, [v]]));

/** Keys a resource's existing tags give: `aws:ResourceTag/k` and EC2's older `ec2:ResourceTag/k`. */
const resourceTags = (tags: Tags | undefined): Entries => tagEntries(["aws:ResourceTag", "ec2:ResourceTag"], tags);

/** Keys the tags a request adds give: `aws:RequestTag/k` and `aws:TagKeys` (multivalued). */
const requestTags = (tags: Tags): Entries => (tags.size === 0 ? [] : [...tagEntries(["aws:RequestTag"], tags), ["aws:TagKeys", [...tags.keys()]]]);

/** `TagSpecification.N` of a request, for any resource type, without the handler's validation (it runs later). */
function specifiedTags(req: QueryNode, resourceType: string): Tags {
  const tags: Tags = new Map();
  for (const spec of req.list("TagSpecification")) {
    if (spec.str("ResourceType") !== resourceType) continue;
    for (const tag of spec.list("Tag").slice(0, 64)) {
      const key = tag.str("Key");
      if (key !== undefined) tags.set(key, tag.str("Value") ?? "");
    }
  }
  return tags;
}

const RESOURCE_TYPES: [RegExp, string][] = [
  [/^sgr-/, "security-group-rule"],
  [/^sg-/, "security-group"],
  [/^eni-/, "network-interface"],
  [/^i-/, "instance"],
  [/^vpc-/, "vpc"],
  [/^subnet-/, "subnet"],
];

interface Env {
  state: Ec2State;
  caller: Principal;
  region: string;
  accountId: string;
  now: number;
}

/** The global keys every request carries. */
function globalContext(env: Env): Entries {
  const { caller } = env;
  const time = new Date(env.now);
  return [
    ["aws:PrincipalArn", [caller.arn]],
    ["aws:PrincipalAccount", [env.accountId]],
    ["aws:PrincipalType", [caller.type === "role" ? "AssumedRole" : "User"]],
    ["aws:userid", [caller.userId]],
    ...(caller.type === "user" ? [["aws:username", [caller.name]] as [string, string[]]] : []),
    ["aws:RequestedRegion", [env.region]],
    ["aws:CurrentTime", [time.toISOString()]],
    ["aws:EpochTime", [String(Math.floor(env.now / 1000))]],
    ["aws:SecureTransport", ["false"]],
  ];
}

function ec2Authorizations(env: Env, action: string, req: QueryNode): { action: string; resource: string; entries: Entries }[] {
  const { state, region, accountId } = env;
  const arn = (type: string, id: string) => `arn:aws:ec2:${region}:${accountId}:${type}/${id}`;
  const ec2 = (a: string) => `ec2:${a}`;
  const regional: Entries = [["ec2:Region", [region]]];
  const found = <T>(lookup: () => T): T | undefined => {
    try {
      return lookup();
    } catch {
      return undefined; // the handler answers the missing resource with EC2's own error
    }
  };
  const group = (id: string | undefined, name?: string) => found(() => state.groupByIdOrName(id, name, true));
  const onGroup = (a: string, g: ReturnType<typeof group>) =>
    g ? [{ action: ec2(a), resource: arn("security-group", g.id), entries: [...resourceTags(g.tags), ["ec2:Vpc", [arn("vpc", g.vpcId)]], ...regional] as Entries }] : [];
  const on = (a: string, type: string, id: string, tags: Tags) => ({ action: ec2(a), resource: arn(type, id), entries: [...resourceTags(tags), ...regional] });
  const onInterface = (a: string, eni: NetworkInterface | undefined) => (eni ? [on(a, "network-interface", eni.id, eni.tags)] : []);
  const onInstance = (a: string, instance: Instance | undefined) => (instance ? [on(a, "instance", instance.id, instance.tags)] : []);
  const attachedTo = (eni: NetworkInterface) => eni.attachment && found(() => state.instance(eni.attachment!.instanceId));
  const tagOnCreate = (type: string, tags: Tags, createAction: string) =>
    tags.size === 0 ? [] : [{ action: "ec2:CreateTags", resource: arn(type, "*"), entries: [...requestTags(tags), ["ec2:CreateAction", [createAction]], ...regional] as Entries }];

  switch (action) {
    case "CreateSecurityGroup": {
      const tags = specifiedTags(req, "security-group");
      const vpc = found(() => state.vpc(req.str("VpcId") ?? state.defaultVpc()?.id ?? ""));
      return [
        { action: ec2(action), resource: arn("security-group", "*"), entries: [...requestTags(tags), ...(vpc ? [["ec2:Vpc", [arn("vpc", vpc.id)]] as [string, string[]]] : []), ...regional] },
        ...(vpc ? [{ action: ec2(action), resource: arn("vpc", vpc.id), entries: [...resourceTags(vpc.tags), ["ec2:Vpc", [arn("vpc", vpc.id)]], ...regional] as Entries }] : []),
        ...tagOnCreate("security-group", tags, action),
      ];
    }
    case "AuthorizeSecurityGroupIngress":
    case "AuthorizeSecurityGroupEgress": {
      const tags = specifiedTags(req, "security-group-rule");
      return [
        ...onGroup(action, group(req.str("GroupId"), req.str("GroupName"))),
        ...(tags.size > 0 ? [{ action: ec2(action), resource: arn("security-group-rule", "*"), entries: [...requestTags(tags), ...regional] }] : []),
        ...tagOnCreate("security-group-rule", tags, action),
      ];
    }
    case "RevokeSecurityGroupIngress":
    case "RevokeSecurityGroupEgress":
    case "DeleteSecurityGroup":
      return onGroup(action, group(req.str("GroupId"), req.str("GroupName")));
    case "ModifyNetworkInterfaceAttribute": {
      const eni = found(() => state.networkInterface(req.str("NetworkInterfaceId") ?? ""));
      return eni ? [...onInterface(action, eni), ...req.strings("SecurityGroupId").flatMap((id) => onGroup(action, group(id))), ...onInstance(action, attachedTo(eni))] : [];
    }
    case "ModifyInstanceAttribute": {
      const instance = found(() => state.instance(req.str("InstanceId") ?? ""));
      return instance ? [...onInstance(action, instance), ...req.strings("GroupId").flatMap((id) => onGroup(action, group(id)))] : [];
    }
    case "ModifySecurityGroupRules": {
      const g = group(req.str("GroupId"));
      const rules = req.list("SecurityGroupRule").flatMap((u) => found(() => state.rule(u.str("SecurityGroupRuleId") ?? "")) ?? []);
      return [...onGroup(action, g), ...rules.map((r) => on(action, "security-group-rule", r.id, r.tags))];
    }
    case "UpdateSecurityGroupRuleDescriptionsIngress":
    case "UpdateSecurityGroupRuleDescriptionsEgress":
      return onGroup(action, group(req.str("GroupId"), req.str("GroupName")));
    case "CreateVpc": {
      const tags = specifiedTags(req, "vpc");
      return [{ action: ec2(action), resource: arn("vpc", "*"), entries: [...requestTags(tags), ...regional] }, ...tagOnCreate("vpc", tags, action)];
    }
    case "DeleteVpc": {
      const vpc = found(() => state.vpc(req.str("VpcId") ?? ""));
      return vpc ? [on(action, "vpc", vpc.id, vpc.tags)] : [];
    }
    case "CreateSubnet": {
      const tags = specifiedTags(req, "subnet");
      const vpc = found(() => state.vpc(req.str("VpcId") ?? ""));
      return [
        { action: ec2(action), resource: arn("subnet", "*"), entries: [...requestTags(tags), ...(vpc ? [["ec2:Vpc", [arn("vpc", vpc.id)]] as [string, string[]]] : []), ...regional] },
        ...(vpc ? [on(action, "vpc", vpc.id, vpc.tags)] : []),
        ...tagOnCreate("subnet", tags, action),
      ];
    }
    case "DeleteSubnet": {
      const subnet = found(() => state.subnet(req.str("SubnetId") ?? ""));
      return subnet ? [on(action, "subnet", subnet.id, subnet.tags)] : [];
    }
    case "CreateNetworkInterface": {
      const tags = specifiedTags(req, "network-interface");
      const subnet = found(() => state.subnet(req.str("SubnetId") ?? ""));
      return [
        { action: ec2(action), resource: arn("network-interface", "*"), entries: [...requestTags(tags), ...(subnet ? ([["ec2:Subnet", [arn("subnet", subnet.id)]], ["ec2:Vpc", [arn("vpc", subnet.vpcId)]]] as Entries) : []), ...regional] },
        ...(subnet ? [on(action, "subnet", subnet.id, subnet.tags)] : []),
        ...req.strings("SecurityGroupId").flatMap((id) => onGroup(action, group(id))),
        ...tagOnCreate("network-interface", tags, action),
      ];
    }
    case "DeleteNetworkInterface":
    case "ResetNetworkInterfaceAttribute":
      return onInterface(action, found(() => state.networkInterface(req.str("NetworkInterfaceId") ?? "")));
    case "AttachNetworkInterface":
      return [
        ...onInstance(action, found(() => state.instance(req.str("InstanceId") ?? ""))),
        ...onInterface(action, found(() => state.networkInterface(req.str("NetworkInterfaceId") ?? ""))),
      ];
    case "DetachNetworkInterface": {
      const eni = found(() => state.attachment(req.str("AttachmentId") ?? ""));
      return eni ? [...onInstance(action, attachedTo(eni)), ...onInterface(action, eni)] : [];
    }
    case "RunInstances": {
      const tags = specifiedTags(req, "instance");
      const subnetIds = [req.str("SubnetId"), ...req.list("NetworkInterface").map((n) => n.str("SubnetId"))].flatMap((id) => id ?? []);
      const groupIds = [...req.strings("SecurityGroupId"), ...req.list("NetworkInterface").flatMap((n) => n.strings("SecurityGroupId"))];
      return [
        { action: ec2(action), resource: arn("instance", "*"), entries: [...requestTags(tags), ...regional] },
        { action: ec2(action), resource: arn("network-interface", "*"), entries: regional },
        { action: ec2(action), resource: `arn:aws:ec2:${region}::image/${req.str("ImageId") ?? "*"}`, entries: regional },
        ...subnetIds.flatMap((id) => {
          const subnet = found(() => state.subnet(id));
          return subnet ? [on(action, "subnet", subnet.id, subnet.tags)] : [];
        }),
        ...groupIds.flatMap((id) => onGroup(action, group(id))),
        ...tagOnCreate("instance", tags, action),
      ];
    }
    case "TerminateInstances":
      return req.strings("InstanceId").flatMap((id) => onInstance(action, found(() => state.instance(id))));
    case "ResetInstanceAttribute":
      return onInstance(action, found(() => state.instance(req.str("InstanceId") ?? "")));
    case "CreateTags":
    case "DeleteTags": {
      const tags: Tags = new Map(req.list("Tag").slice(0, 64).map((t) => [t.str("Key") ?? "", t.str("Value") ?? ""]));
      return req.strings("ResourceId").flatMap((id) => {
        const type = RESOURCE_TYPES.find(([prefix]) => prefix.test(id))?.[1];
        const existing = found(() => state.tagsOf(id));
        if (!type || !existing) return [];
        const entries: Entries = [...resourceTags(existing), ...(action === "CreateTags" ? requestTags(tags) : [["aws:TagKeys", [...tags.keys()]] as [string, string[]]]), ...regional];
        return [{ action: ec2(action), resource: arn(type, id), entries }];
      });
    }
    default:
      return [{ action: ec2(action), resource: "*", entries: regional }];
  }
}

function iamAuthorizations(env: Env, service: ServiceName, action: string, req: QueryNode, principals: Principals): { action: string; resource: string; entries: Entries }[] {
  if (service === "sts") return action === "GetCallerIdentity" ? [] : [{ action: `sts:${action}`, resource: "*", entries: [] }];
  if (action === "SimulatePrincipalPolicy") return [{ action: "iam:SimulatePrincipalPolicy", resource: req.str("PolicySourceArn") ?? "*", entries: [] }];
  if (action === "GetRole") {
    const name = req.str("RoleName") ?? "";
    let path = "/";
    try {
      path = principals.role(name).path;
    } catch {
      // the handler answers NoSuchEntity
    }
    return [{ action: "iam:GetRole", resource: `arn:aws:iam::${env.accountId}:role${path}${name}`, entries: [] }];
  }
  return [{ action: `iam:${action}`, resource: "*", entries: [] }];
}

export interface DecodedAuthorization {
  allowed: boolean;
  explicitDeny: boolean;
  matchedStatements: { items: { statementId: string; effect: string }[] };
  failures: { items: never[] };
  context: {
    principal: { id: string; arn: string };
    action: string;
    resource: string;
    conditions: { items: { key: string; values: { items: { value: string }[] } }[] };
  };
}

/** The encoded message EC2 appends; opaque to callers, decoded by `sts:DecodeAuthorizationMessage`. */
export function encodeAuthorization(decoded: DecodedAuthorization): string {
  return Buffer.from(JSON.stringify(decoded), "utf8").toString("base64");
}

export function decodeAuthorization(encoded: string): DecodedAuthorization | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
    return decoded !== null && typeof decoded === "object" && "context" in decoded ? (decoded as DecodedAuthorization) : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses the call (EC2's `UnauthorizedOperation`, IAM's and STS's `AccessDenied`) unless every resource it touches is allowed. */
export function enforceIam(env: Env, service: ServiceName, action: string, req: QueryNode, principals: Principals): void {
  const needed = service === "ec2" ? ec2Authorizations(env, action, req) : iamAuthorizations(env, service, action, req, principals);
  const global = globalContext(env);
  for (const n of needed) {
    const context: RequestContext = new Map([...global, ...n.entries].map(([k, v]) => [k.toLowerCase(), v]));
    const result = evaluate(env.caller.policies, n.action, n.resource, context);
    if (result.decision === "allowed") continue;
    const why = reason(result.decision, n.action);
    if (service !== "ec2") throw new AwsError("AccessDenied", `User: ${env.caller.callerArn} is not authorized to perform: ${n.action} on resource: ${n.resource} ${why}`, 403);
    const encoded = encodeAuthorization({
      allowed: false,
      explicitDeny: result.decision === "explicitDeny",
      matchedStatements: { items: result.matched.map((m) => ({ statementId: m.sourcePolicyId, effect: "DENY" })) },
      failures: { items: [] },
      context: {
        principal: { id: env.caller.userId, arn: env.caller.callerArn },
        action: n.action,
        resource: n.resource,
        conditions: { items: [...context].map(([key, values]) => ({ key, values: { items: values.map((value) => ({ value })) } })) },
      },
    });
    throw new AwsError(
      "UnauthorizedOperation",
      `You are not authorized to perform this operation. User: ${env.caller.callerArn} is not authorized to perform: ${n.action} on resource: ${n.resource} ${why}. Encoded authorization failure message: ${encoded}`,
      403,
    );
  }
}

function reason(decision: Decision, action: string): string {
  return decision === "explicitDeny" ? "with an explicit deny in an identity-based policy" : `because no identity-based policy allows the ${action} action`;
}
