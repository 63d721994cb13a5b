import type { Json } from "./arm";
import { renderVm } from "./compute";
import type { Ctx } from "./context";
import { renderFirewall } from "./firewall";
import { renderNic } from "./nic";
import { renderNsg } from "./nsg";
import { renderPublicIp } from "./public-ip";
import { FirewallProps, NicProps, NsgProps, PublicIpProps, Resource, RuleProps, TYPES, VmProps, VnetProps } from "./store";
import { renderVnet } from "./vnet";

/**
 * Reads of the emulator's state for assertions. They are not API calls: nothing is logged, no
 * fault applies, and no poll is counted.
 */
export interface FlatRule extends RuleProps {
  name: string;
}

function render(ctx: Ctx, r: Resource): Json {
  switch (r.type) {
    case TYPES.nsg:
      return renderNsg(ctx, r as Resource<NsgProps>);
    case TYPES.nic:
      return renderNic(ctx, r as Resource<NicProps>);
    case TYPES.publicIp:
      return renderPublicIp(ctx, r as Resource<PublicIpProps>);
    case TYPES.vnet:
      return renderVnet(ctx, r as Resource<VnetProps>);
    case TYPES.firewall:
      return renderFirewall(r as Resource<FirewallProps>);
    case TYPES.vm:
      return renderVm(r as Resource<VmProps>);
  }
}

export class AzureState {
  constructor(private readonly ctx: Ctx) {}

  /** A top-level resource exactly as a GET would answer it (wire form, `properties` not flattened). */
  resource(id: string): Json | undefined {
    const r = this.ctx.store.get(id);
    return r && render(this.ctx, r);
  }

  nsg(resourceGroup: string, name: string): Json | undefined {
    return this.resource(this.ctx.store.idOf(TYPES.nsg, resourceGroup, name));
  }

  /** An NSG's own rules (not the defaults), flattened the way the SDK models them. */
  nsgRules(resourceGroup: string, name: string): FlatRule[] {
    const nsg = this.ctx.store.find<NsgProps>(TYPES.nsg, resourceGroup, name);
    if (!nsg) throw new Error(`no network security group ${name} in resource group ${resourceGroup}`);
    return nsg.properties.securityRules.map((r) => ({ name: r.name, ...r.properties }));
  }

  firewall(resourceGroup: string, name: string): Json | undefined {
    return this.resource(this.ctx.store.idOf(TYPES.firewall, resourceGroup, name));
  }

  etag(id: string): string | undefined {
    return this.ctx.store.get(id)?.etag;
  }

  provisioningState(id: string): string | undefined {
    return this.ctx.store.get(id)?.provisioningState;
  }
}
