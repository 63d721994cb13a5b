import type { RoleKind } from "./kinds";

/**
 * Which resources an IAM statement covers. EC2 authorises each call on every resource it touches,
 * so one action may need several scopes (CreateSecurityGroup: the new group and its VPC).
 * - `any`: `*`, for calls without resource-level permissions (EC2's Describe* calls).
 * - `instances`: the instance ARNs given, or every instance carrying the given tag.
 * - `interfaces`: network interfaces and the groups named in their new group list, the other
 *   resources ModifyNetworkInterfaceAttribute is authorised on besides the instance.
 * - `securityGroups`: any group and its rules (the baseline changes the user's own groups).
 * - `grantGroups`: only groups tagged as grant groups (`pulumi-jit:role` = `grant-group`).
 * - `newGrantGroups`: creating a group only with that tag in the request.
 * - `groupRules`: security group rules (ids), which Authorize/Revoke also authorise on.
 * - `vpcs`: the VPC a new group is created in.
 * - `taggingOnCreate`: tags only as part of creating a group or rules.
 * - `callers`: the principals whose policies are simulated (default: any).
 */
export type AwsResourceScope =
  | "any"
  | "instances"
  | "interfaces"
  | "securityGroups"
  | "grantGroups"
  | "newGrantGroups"
  | "groupRules"
  | "vpcs"
  | "taggingOnCreate"
  | "grantStamps"
  | "callers";

export interface AwsActionEntry {
  action: string;
  kinds: readonly RoleKind[];
  scopes: readonly AwsResourceScope[];
  why: string;
}

/** Every kind that reads EC2 to plan or report. */
const READERS: readonly RoleKind[] = ["configure", "broker", "direct", "read"];
/** The kinds that write grants: the broker's identity, or a requester without a broker. */
const GRANT_WRITERS: readonly RoleKind[] = ["broker", "direct"];

/**
 * Every AWS API action pulumi-jit performs or checks, with the kinds of role that need it, on
 * which resources, and why. The policy documents are read off this table and nothing else.
 *
 * Compared with Defender for Cloud: on AWS, Defender acts through its connector's own IAM role
 * and checks only Azure RBAC (`Microsoft.Security/*`) for requesters. Likewise here: `request`
 * holds no EC2 action (the requester proves who it is with a signed STS GetCallerIdentity, which
 * needs no permission, and the policy's `requesters` decide), and `broker` holds what a grant does
 * to EC2 (a grant group, its rules, the interfaces' group lists) and what ending one does, confined
 * to groups tagged as grant groups and to the policy's instances. `direct` is that plus the
 * `requestAccess` pre-check (IAM simulation), for pipelines that request without a broker; what
 * such a requester could do outside pulumi-jit is open the scoped instances' ports through grant
 * groups, which is why the broker exists.
 */
export const AWS_ACTIONS: readonly AwsActionEntry[] = [
  {
    action: "ec2:DescribeInstances",
    kinds: READERS,
    scopes: ["any"],
    why: "instance to interfaces to security groups; requestAccess also checks it on each instance",
  },
  {
    action: "ec2:DescribeNetworkInterfaces",
    kinds: READERS,
    scopes: ["any"],
    why: "the group list of each interface, read before and after replacing it; who else wears a group",
  },
  {
    action: "ec2:DescribeSecurityGroups",
    kinds: READERS,
    scopes: ["any"],
    why: "the groups' ingress rules; grant groups found by their tags",
  },
  {
    action: "ec2:DescribeSecurityGroupRules",
    kinds: READERS,
    scopes: ["any"],
    why: "rule ids and tags: rules are revoked by id, and ours are told from the user's by their tags",
  },
  {
    action: "ec2:ModifyNetworkInterfaceAttribute",
    kinds: ["configure", ...GRANT_WRITERS],
    scopes: ["instances", "interfaces"],
    why: "putting the JIT group on the instance's interfaces (baseline) or a grant group where it has no room, and taking them off; requestAccess without a broker checks it on each instance",
  },
  {
    action: "ec2:DescribeManagedPrefixLists",
    kinds: ["configure", "read"],
    scopes: ["any"],
    why: "the size of each prefix list a rule references, which counts against the rules-per-group quota",
  },
  {
    action: "ec2:CreateSecurityGroup",
    kinds: ["configure", ...GRANT_WRITERS],
    scopes: ["newGrantGroups", "vpcs"],
    why: "each instance's JIT group when the baseline is applied; a grant group for a grant's rules when the instance has no JIT group with room",
  },
  {
    action: "ec2:CreateTags",
    kinds: ["configure", ...GRANT_WRITERS],
    scopes: ["taggingOnCreate"],
    why: "the tags given when a grant group, a grant's rules or a baseline's split rules are created, which say what they are and when they expire",
  },
  {
    action: "ec2:CreateTags",
    kinds: GRANT_WRITERS,
    scopes: ["grantStamps"],
    why: "moving the expiry tag of a grant's rules and grant group when `jit extend` lengthens the grant: only that tag, only on resources tagged as a grant's",
  },
  {
    action: "ec2:AuthorizeSecurityGroupIngress",
    kinds: ["broker"],
    scopes: ["grantGroups", "groupRules"],
    why: "the grant's rules, in a grant group",
  },
  {
    action: "ec2:AuthorizeSecurityGroupIngress",
    kinds: ["direct"],
    scopes: ["grantGroups", "groupRules", "instances"],
    why: "the grant's rules, in a grant group; requestAccess also checks it on each instance (EC2 never authorises it on an instance, so that grants nothing more)",
  },
  {
    action: "ec2:RevokeSecurityGroupIngress",
    kinds: GRANT_WRITERS,
    scopes: ["grantGroups", "groupRules"],
    why: "removing a grant's rules when it is revoked, a newer grant supersedes it or an apply fails",
  },
  {
    action: "ec2:AuthorizeSecurityGroupIngress",
    kinds: ["configure"],
    scopes: ["securityGroups"],
    why: "the narrower rules a split leaves open, and the revoked rules put back when a policy goes",
  },
  {
    action: "ec2:RevokeSecurityGroupIngress",
    kinds: ["configure"],
    scopes: ["securityGroups"],
    why: "the baseline revokes the rules that open a selected port; sweep removes expired grant rules",
  },
  {
    action: "ec2:DeleteSecurityGroup",
    kinds: ["configure", ...GRANT_WRITERS],
    scopes: ["grantGroups"],
    why: "retiring a grant group left without rules",
  },
  {
    action: "iam:SimulatePrincipalPolicy",
    kinds: ["direct"],
    scopes: ["callers"],
    why: "the authorisation check requestAccess without a broker makes on the caller's own policies",
  },
  {
    action: "sts:GetCallerIdentity",
    kinds: ["request"],
    scopes: ["any"],
    why: "the signed request that proves who the requester is to the broker (STS allows it to everyone; listed so the policy says what it is for)",
  },
];

/** The table's rows for a kind, in table order. */
export function awsEntries(kind: RoleKind): AwsActionEntry[] {
  return AWS_ACTIONS.filter((e) => e.kinds.includes(kind));
}

/** The actions a policy of this kind allows, each once, in table order. */
export function awsActions(kind: RoleKind): string[] {
  return [...new Set(awsEntries(kind).map((e) => e.action))];
}
