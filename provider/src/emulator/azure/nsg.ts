import { Json, checkName, childNotFound, empty, fail, invalidRequest, isObject, json } from "./arm";
import type { Ctx } from "./context";
import { DEFAULT_SECURITY_RULES } from "./default-rules";
import { childId, key } from "./ids";
import { nicsWithNsg, subnetsWithNsg } from "./relations";
import { ArmRoute, page } from "./router";
import { checkRuleSet, validateRule } from "./security-rules";
import { NsgProps, ProvisioningState, Resource, RuleDoc, TYPES } from "./store";
import { deleteRoute, locationOf, renderChild, renderTracked, settleTo, trackedFields, updateTagsRoute } from "./tracked";

/** Network security groups, their security rules, and their default rules. */
const RULE_TYPE = "Microsoft.Network/networkSecurityGroups/securityRules";
const DEFAULT_RULE_TYPE = "Microsoft.Network/networkSecurityGroups/defaultSecurityRules";
type Collection = "securityRules" | "defaultSecurityRules";

/** NRP answers every plural field of a rule, empty when the singular one was used. */
function renderRule(nsg: Resource<NsgProps>, rule: RuleDoc, collection: Collection = "securityRules"): Json {
  return renderChild(nsg, childId(nsg.id, collection, rule.name), collection === "securityRules" ? RULE_TYPE : DEFAULT_RULE_TYPE, rule.name, {
    sourcePortRanges: [],
    destinationPortRanges: [],
    sourceAddressPrefixes: [],
    destinationAddressPrefixes: [],
    ...rule.properties,
  });
}

/**
 * `flushConnection` entered the NSG schema with api-version 2022-01-01 (azure-mgmt-network 21.0.0,
 * "NetworkSecurityGroup has a new parameter flush_connection"), but NRP did not answer it by
 * default at once: the Go SDK's recorded NSG exchanges at 2022-07-01 (specs/recordings) leave it
 * out of a PUT and GET that never set it, while the 2024-05-01 spec example
 * NetworkSecurityGroupCreate.json answers `false`. So: answered when it was set, and by default
 * from the first version known to answer it. Readers treat absent as false either way.
 */
const FLUSH_CONNECTION_SINCE = "2024-05-01";

/** `apiVersion`: the request's; absent for reads of the emulator's own state, which show everything. */
export function renderNsg(ctx: Ctx, nsg: Resource<NsgProps>, apiVersion?: string): Json {
  const flush = nsg.properties.flushConnection;
  const showFlush = flush !== undefined || apiVersion === undefined || apiVersion >= FLUSH_CONNECTION_SINCE;
  const nics = nicsWithNsg(ctx.store, nsg.id);
  const subnets = subnetsWithNsg(ctx.store, nsg.id);
  return renderTracked(nsg, {
    provisioningState: nsg.provisioningState,
    resourceGuid: nsg.resourceGuid,
    ...(showFlush ? { flushConnection: flush ?? false } : {}),
    securityRules: nsg.properties.securityRules.map((r) => renderRule(nsg, r)),
    defaultSecurityRules: DEFAULT_SECURITY_RULES.map((r) => renderRule(nsg, r, "defaultSecurityRules")),
    ...(nics.length ? { networkInterfaces: nics.map((n) => ({ id: n.id })) } : {}),
    ...(subnets.length ? { subnets: subnets.map((s) => ({ id: s.id })) } : {}),
  });
}

/** Creates or replaces an NSG with all its rules (what an NSG PUT does). */
export function writeNsg(ctx: Ctx, resourceGroup: string, name: string, body: Json, state: ProvisioningState): { resource: Resource<NsgProps>; created: boolean } {
  ctx.store.requireResourceGroup(resourceGroup);
  checkName(name);
  const id = ctx.store.idOf(TYPES.nsg, resourceGroup, name);
  const existing = ctx.store.get(id);
  const tracked = trackedFields(body, existing, name, resourceGroup);
  const props = isObject(body.properties) ? body.properties : {};
  const given = props.securityRules ?? [];
  if (!Array.isArray(given)) return invalidRequest("properties.securityRules must be an array.");
  const names = new Set<string>();
  const rules = given.map((raw, i) => {
    const ruleName = isObject(raw) && typeof raw.name === "string" ? raw.name : "";
    if (names.has(key(ruleName))) invalidRequest(`Network security group ${id} has more than one security rule named ${ruleName}.`);
    names.add(key(ruleName));
    const properties = isObject(raw) ? raw.properties : undefined;
    return validateRule(childId(id, "securityRules", ruleName), ruleName, properties, `properties.securityRules[${i}].properties`, ctx.options.singularAndPlural);
  });
  checkRuleSet(rules);
  return ctx.store.write<NsgProps>(
    { id, type: TYPES.nsg, name, resourceGroup, ...tracked, properties: { ...(typeof props.flushConnection === "boolean" ? { flushConnection: props.flushConnection } : {}), securityRules: rules } },
    state,
  );
}

/** Adds or replaces one rule (what a security rule PUT does); the NSG gets a new ETag. */
export function writeRule(ctx: Ctx, nsg: Resource<NsgProps>, name: string, properties: unknown, state: ProvisioningState): { nsg: Resource<NsgProps>; rule: RuleDoc; created: boolean } {
  const index = nsg.properties.securityRules.findIndex((r) => key(r.name) === key(name));
  const ruleName = index >= 0 ? nsg.properties.securityRules[index].name : name;
  const rule = validateRule(childId(nsg.id, "securityRules", ruleName), ruleName, properties, "properties", ctx.options.singularAndPlural);
  const rules = [...nsg.properties.securityRules];
  if (index >= 0) rules[index] = rule;
  else rules.push(rule);
  checkRuleSet(rules);
  const { resource } = ctx.store.write<NsgProps>({ ...nsg, properties: { ...nsg.properties, securityRules: rules } }, state);
  return { nsg: resource, rule, created: index < 0 };
}

function findRule(nsg: Resource<NsgProps>, collection: Collection, name: string): RuleDoc {
  const rules = collection === "securityRules" ? nsg.properties.securityRules : DEFAULT_SECURITY_RULES;
  return rules.find((r) => key(r.name) === key(name)) ?? childNotFound(childId(nsg.id, collection, name));
}

export function nsgRoutes(ctx: Ctx): ArmRoute[] {
  const { store, lro, options } = ctx;
  const rgPath = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/networkSecurityGroups";
  const nsgPath = `${rgPath}/{networkSecurityGroupName}`;
  const rulePath = `${nsgPath}/securityRules/{securityRuleName}`;
  const defaultRulePath = `${nsgPath}/defaultSecurityRules/{defaultSecurityRuleName}`;
  const nsgOf = (p: Record<string, string>) => store.require<NsgProps>(TYPES.nsg, p.resourceGroupName, p.networkSecurityGroupName);

  return [
    {
      method: "GET",
      path: nsgPath,
      operation: "NetworkSecurityGroups_Get",
      handle: (req) => json(200, renderNsg(ctx, nsgOf(req.params), req.apiVersion)),
    },
    {
      method: "GET",
      path: rgPath,
      operation: "NetworkSecurityGroups_List",
      handle: (req) => {
        store.requireResourceGroup(req.params.resourceGroupName);
        return page(req, store.list<NsgProps>(TYPES.nsg, req.params.resourceGroupName), options.pageSize, (n) => renderNsg(ctx, n, req.apiVersion));
      },
    },
    {
      method: "GET",
      path: "/subscriptions/{subscriptionId}/providers/Microsoft.Network/networkSecurityGroups",
      operation: "NetworkSecurityGroups_ListAll",
      handle: (req) => page(req, store.list<NsgProps>(TYPES.nsg), options.pageSize, (n) => renderNsg(ctx, n, req.apiVersion)),
    },
    {
      method: "PUT",
      path: nsgPath,
      operation: "NetworkSecurityGroups_CreateOrUpdate",
      handle: (req) => {
        const { resourceGroupName: rg, networkSecurityGroupName: name } = req.params;
        store.requireResourceGroup(rg);
        const body = req.body();
        const existing = store.find<NsgProps>(TYPES.nsg, rg, name);
        return lro.write(req, {
          kind: "Put",
          what: "NetworkSecurityGroup",
          provider: "Microsoft.Network",
          location: locationOf(ctx, body, existing),
          locks: [existing?.id ?? store.idOf(TYPES.nsg, rg, name)],
          etag: existing?.etag,
          apply: () => {
            const { resource, created } = writeNsg(ctx, rg, name, body, "Updating");
            return { status: created ? 201 : 200, body: renderNsg(ctx, resource, req.apiVersion), settle: settleTo(ctx, resource.id) };
          },
        });
      },
    },
    updateTagsRoute<NsgProps>(ctx, { path: nsgPath, type: TYPES.nsg, render: (n, apiVersion) => renderNsg(ctx, n, apiVersion) }, "NetworkSecurityGroups_UpdateTags"),
    deleteRoute<NsgProps>(ctx, { path: nsgPath, type: TYPES.nsg }, "NetworkSecurityGroups_Delete", {
      what: "NetworkSecurityGroup",
      provider: "Microsoft.Network",
      check: (nsg) => {
        const users = [...nicsWithNsg(store, nsg.id).map((n) => n.id), ...subnetsWithNsg(store, nsg.id).map((s) => s.id)];
        if (users.length) {
          fail(
            400,
            "InUseNetworkSecurityGroupCannotBeDeleted",
            `Network security group ${nsg.id} cannot be deleted because it is in use by the following resources: ${users.join(", ")}. In order to delete the Network security group, remove the association with the resource(s). To learn how to do this, see aka.ms/deletensg.`,
          );
        }
      },
    }),
    {
      method: "GET",
      path: rulePath,
      operation: "SecurityRules_Get",
      handle: (req) => {
        const nsg = nsgOf(req.params);
        return json(200, renderRule(nsg, findRule(nsg, "securityRules", req.params.securityRuleName)));
      },
    },
    {
      method: "GET",
      path: `${nsgPath}/securityRules`,
      operation: "SecurityRules_List",
      handle: (req) => {
        const nsg = nsgOf(req.params);
        return page(req, nsg.properties.securityRules.map((r) => renderRule(nsg, r)), options.pageSize);
      },
    },
    {
      method: "PUT",
      path: rulePath,
      operation: "SecurityRules_CreateOrUpdate",
      handle: (req) => {
        const nsg = nsgOf(req.params);
        const body = req.body();
        const exists = nsg.properties.securityRules.some((r) => key(r.name) === key(req.params.securityRuleName));
        return lro.write(req, {
          kind: "Put",
          what: "SecurityRule",
          provider: "Microsoft.Network",
          location: nsg.location,
          locks: [nsg.id],
          etag: exists ? nsg.etag : undefined,
          preconditions: options.ifMatchOnSecurityRules,
          apply: () => {
            const written = writeRule(ctx, nsg, req.params.securityRuleName, body.properties, "Updating");
            return { status: written.created ? 201 : 200, body: renderRule(written.nsg, written.rule), settle: settleTo(ctx, nsg.id) };
          },
        });
      },
    },
    {
      method: "DELETE",
      path: rulePath,
      operation: "SecurityRules_Delete",
      handle: (req) => {
        const nsg = nsgOf(req.params);
        const rules = nsg.properties.securityRules.filter((r) => key(r.name) !== key(req.params.securityRuleName));
        if (rules.length === nsg.properties.securityRules.length) return lro.writeNow(req, [], undefined, () => empty(204));
        return lro.write(req, {
          kind: "Delete",
          what: "SecurityRule",
          provider: "Microsoft.Network",
          location: nsg.location,
          locks: [nsg.id],
          etag: nsg.etag,
          preconditions: options.ifMatchOnSecurityRules,
          apply: () => {
            // A rule's removal is an update of its NSG: the rule is gone at once, the NSG is Updating.
            store.write<NsgProps>({ ...nsg, properties: { ...nsg.properties, securityRules: rules } }, "Updating");
            return { status: 202, settle: settleTo(ctx, nsg.id) };
          },
        });
      },
    },
    {
      method: "GET",
      path: defaultRulePath,
      operation: "DefaultSecurityRules_Get",
      handle: (req) => {
        const nsg = nsgOf(req.params);
        return json(200, renderRule(nsg, findRule(nsg, "defaultSecurityRules", req.params.defaultSecurityRuleName), "defaultSecurityRules"));
      },
    },
    {
      method: "GET",
      path: `${nsgPath}/defaultSecurityRules`,
      operation: "DefaultSecurityRules_List",
      handle: (req) => {
        const nsg = nsgOf(req.params);
        return page(req, DEFAULT_SECURITY_RULES.map((r) => renderRule(nsg, r, "defaultSecurityRules")), options.pageSize);
      },
    },
  ];
}
