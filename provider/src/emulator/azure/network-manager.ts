import { randomUUID } from "node:crypto";
import { Json, isObject, json } from "./arm";
import type { Ctx } from "./context";
import { sameId } from "./ids";
import type { ArmRoute } from "./router";
import { AdminRuleDoc, TYPES, VnetProps } from "./store";

/**
 * Azure Virtual Network Manager's security admin rules as a virtual network sees them: NRP
 * evaluates them before any NSG (`AlwaysAllow` lets traffic in whatever the NSGs say, `Deny` keeps
 * it out whatever they say, `Allow` hands it on to the NSGs). What is served is the one call that
 * reads them per network, `POST …/virtualNetworks/{vnet}/listNetworkManagerEffectiveSecurityAdminRules`
 * (operation `ListNetworkManagerEffectiveSecurityAdminRules`, as the SDK's `NetworkManagementClient`
 * sends it): body `{ skipToken? }`, optional `$top`, answer `{ value, skipToken? }` with items of
 * kind `Custom` whose rule fields sit under `properties` (`EffectiveSecurityAdminRule`). Network
 * managers, their groups and configurations are not modelled: a rule is seeded as deployed.
 */
export function renderAdminRule(rule: AdminRuleDoc): Json {
  return {
    id: rule.id,
    ...(rule.configurationDescription === undefined ? {} : { configurationDescription: rule.configurationDescription }),
    ...(rule.ruleCollectionDescription === undefined ? {} : { ruleCollectionDescription: rule.ruleCollectionDescription }),
    ruleCollectionAppliesToGroups: [],
    ruleGroups: [],
    kind: "Custom",
    properties: { ...rule.properties, provisioningState: "Succeeded", resourceGuid: randomUUID() },
  };
}

const DEFAULT_TOP = 50;

export function networkManagerRoutes(ctx: Ctx): ArmRoute[] {
  const { store } = ctx;
  return [
    {
      method: "POST",
      path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}/listNetworkManagerEffectiveSecurityAdminRules",
      operation: "ListNetworkManagerEffectiveSecurityAdminRules",
      readOnly: true,
      handle: (req) => {
        const vnet = store.require<VnetProps>(TYPES.vnet, req.params.resourceGroupName, req.params.virtualNetworkName);
        const body = req.body();
        const skip = isObject(body) && typeof body.skipToken === "string" ? Number(body.skipToken) || 0 : 0;
        const top = Math.min(Number(req.query.get("$top") ?? "") || DEFAULT_TOP, ctx.options.pageSize, DEFAULT_TOP);
        const rules = store.adminRules.filter((r) => r.vnets.some((id) => sameId(id, vnet.id))).sort((a, b) => a.properties.priority - b.properties.priority);
        const value = rules.slice(skip, skip + top).map(renderAdminRule);
        return json(200, { value, ...(skip + top < rules.length ? { skipToken: String(skip + top) } : {}) });
      },
    },
  ];
}
