/**
 * Planning: pure functions from what the cloud looks like now to what to write. Nothing here reads
 * or writes anything; adapters read the cloud, call these, and apply the result.
 */
export type { PortSpec, GrantPort } from "./types";
export type { PortRange } from "./port-ranges";
export type { Nsg, NsgRule, NsgPath, VmNic, NsgProtocol, NsgAccess, NsgDirection, RuleRef, NsgChange, AddedRule } from "./nsg/types";
export { DEFAULT_SECURITY_RULES } from "./nsg/default-rules";
export { ruleDifferences } from "./nsg/rule-shape";
export { AZURE_LOAD_BALANCER_ADDRESS, RFC1918, defaultVirtualNetwork, groupsOf } from "./nsg/addresses";
export { evaluateInbound, evaluateNsg, inboundEvaluator, whoCanReach } from "./nsg/evaluator";
export type { Flow, EvaluationOptions, NsgDecision, PathDecision, Reach, ReachTarget } from "./nsg/evaluator";
export { MAX_DESCRIPTION, MAX_RULE_NAME, allowRuleDescription, allowRuleName, denyRuleDescription, denyRuleName, parseJitRule, sharedDenyRuleDescription, sharedDenyRuleName, stampTime } from "./nsg/names";
export type { JitRuleInfo } from "./nsg/names";
export { DENY_FLOOR, MAX_PRIORITY, MAX_RULES_PER_NSG, MIN_PRIORITY } from "./nsg/priorities";
export { MAX_ADDRESSES_AND_PORTS, addressesAndPorts, checkNsgLimits } from "./nsg/limits";
export { baselinePortStatuses, planDenyBaseline, policyDenyRuleFor } from "./nsg/deny-baseline";
export type { BaselineVm, DenyBaselineInput, DenyBaselinePlan, PortStatus } from "./nsg/deny-baseline";
export { describeUnfiltered, openToInternet, pathPortStatus, sessionsCutNote } from "./nsg/path-status";
export { adminRuleName, adminRulesAt, describeAdminFinding } from "./nsg/admin-rules";
export { nsgProtocol } from "./protocols";
export type { AdminAccess, AdminFinding, AdminRule } from "./nsg/admin-rules";
export type { PathPortStatus, PublicIpView } from "./nsg/path-status";
export { planAllowGrant } from "./nsg/allow";
export type { AllowGrantInput, AllowGrantPlan, GrantVm } from "./nsg/allow";
export { planBaselineRemoval, planRestore, planSweep } from "./nsg/restore";
export type { RestorePlan, SweepPlan } from "./nsg/restore";
export type {
  CollectionEdits,
  Firewall,
  FirewallChange,
  FwCollection,
  FwNatRule,
  FwNetworkRule,
  FwProtocol,
  FwRuleRef,
  NatCollection,
  NetworkCollection,
} from "./firewall/types";
export { applyFirewallChange, editCollections, isEmptyFirewallChange, noFirewallChange } from "./firewall/types";
export { allowCollectionName, denyCollectionName, dnatCollectionName, parseJitCollection } from "./firewall/names";
export type { JitCollectionInfo } from "./firewall/names";
export { FW_DENY_FLOOR, MAPPED_PORT_FIRST, MAPPED_PORT_LAST, MAX_COLLECTION_PRIORITY, MIN_COLLECTION_PRIORITY } from "./firewall/priorities";
export { evaluateFirewallInbound } from "./firewall/evaluator";
export { flowProtocols, fwProtocols } from "./firewall/match";
export type { FirewallDecision, FirewallEvaluationOptions, FirewallFlow } from "./firewall/evaluator";
export { firewallPortStatuses, planFirewallDenyBaseline } from "./firewall/deny-baseline";
export type { FirewallBaselineInput, FirewallBaselinePlan, FwPortStatus } from "./firewall/deny-baseline";
export { planFirewallGrant } from "./firewall/grant";
export type { FirewallGrantInput, FirewallGrantPlan, FirewallGrantRule, FirewallGrantVm } from "./firewall/grant";
export { planFirewallBaselineRemoval, planFirewallRestore, planFirewallSweep } from "./firewall/restore";
export type { FirewallRemovalPlan, FirewallSweepPlan, RecordedFwRule } from "./firewall/restore";
export { fwRuleDifferences } from "./firewall/rule-shape";
export type { IpPermission, IpRange, Ipv6Range, PrefixListId, SecurityGroup, SecurityGroupRule, Tag, UserIdGroupPair } from "./sg/types";
export { permissionOfRule } from "./sg/permissions";
export { sgAllows, sgEvaluator } from "./sg/evaluator";
export type { SgFlow, SgFlowSource, SgMatch } from "./sg/evaluator";
export { MAX_RULES_PER_GROUP, planSgBaseline, planSgRestore, prefixListWeight } from "./sg/baseline";
export { adoptStrays, decideGroup, tagsIn, untrackedOpenings } from "./sg/decide";
export type { GroupDecision, SgGroupRecord, SgInstance, SgInterface, SgMember, SgSurvey } from "./sg/decide";
export { STAMP_SKEW_MS, judgeGrantRule } from "./sg/ownership";
export type { GrantRuleVerdict } from "./sg/ownership";
export { emptiedGroups, planSgGrantRestore } from "./sg/restore";
export type { RecordedSgRule, SgGrantRestoreInput, SgGrantRestorePlan } from "./sg/restore";
export type { SgBaselineInput, SgBaselinePlan, SgBaselineRecord, SgGroupChange } from "./sg/baseline";
export { BASELINE_SPLIT_ROLE, GRANT_GROUP_ROLE, TAG_EXPIRES_AT, TAG_GRANT, TAG_INSTANCE, TAG_POLICY, TAG_ROLE } from "./sg/tags";
export {
  MAX_GROUPS_PER_INTERFACE,
  groupsWith,
  groupsWithout,
  jitGroupName,
  jitGroupOn,
  parseGrantTags,
  planGrantPlacement,
  planSgGrantIngress,
} from "./sg/grant";
export type { GrantIngress, GrantPlacement, GrantPlacementInput, GrantRuleInfo, SgGrantInput } from "./sg/grant";
export { preserveRuleTags, sgRuleKeys } from "./sg/rule-tags";
export type { TaggedPermission } from "./sg/rule-tags";
export { sgOpenings } from "./sg/exposure";
export { grantGroupStamp, planSgOrphanSweep } from "./sg/orphans";
export type { SgOrphan, SgOrphanSweepInput, SgOrphanSweepPlan, SweptGrantState } from "./sg/orphans";
