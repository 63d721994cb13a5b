import { formatPrefix, parsePrefix } from "../../model/address";
import { fieldValues } from "./match";
import type { NsgAccess, NsgProtocol, NsgRule } from "./types";

/** An inbound rule in the shape pulumi-jit writes: singular fields for one value, plural for several. */
export function jitRule(spec: {
  name: string;
  priority: number;
  access: NsgAccess;
  protocol: NsgProtocol;
  description: string;
  source: string;
  destinations: readonly string[];
  ports: readonly number[];
}): NsgRule {
  const destinations = [...new Set(spec.destinations.map((a) => formatPrefix(parsePrefix(a))))].sort();
  const ports = [...new Set(spec.ports)].sort((a, b) => a - b).map(String);
  return {
    name: spec.name,
    priority: spec.priority,
    direction: "Inbound",
    access: spec.access,
    protocol: spec.protocol,
    description: spec.description,
    sourceAddressPrefix: spec.source,
    sourcePortRange: "*",
    ...(destinations.length === 1 ? { destinationAddressPrefix: destinations[0] } : { destinationAddressPrefixes: destinations }),
    ...(ports.length === 1 ? { destinationPortRange: ports[0] } : { destinationPortRanges: ports }),
  };
}

function values(single: string | undefined, plural: readonly string[] | undefined): string {
  return [...fieldValues(single, plural)].sort().join(",");
}

function groups(refs: NsgRule["sourceApplicationSecurityGroups"]): string {
  return (refs ?? []).map((g) => g.id ?? "").sort().join(",");
}

/** Everything that decides what a rule does, one comparable text per field (`name` aside). */
function fields(r: NsgRule): Record<string, string> {
  return {
    priority: String(r.priority),
    direction: r.direction,
    access: r.access,
    protocol: r.protocol,
    description: r.description ?? "",
    source: values(r.sourceAddressPrefix, r.sourceAddressPrefixes),
    sourceApplicationSecurityGroups: groups(r.sourceApplicationSecurityGroups),
    sourcePorts: values(r.sourcePortRange, r.sourcePortRanges),
    destination: values(r.destinationAddressPrefix, r.destinationAddressPrefixes),
    destinationApplicationSecurityGroups: groups(r.destinationApplicationSecurityGroups),
    destinationPorts: values(r.destinationPortRange, r.destinationPortRanges),
  };
}

/** The fields in which two rules differ, whichever of the singular or plural forms each uses. */
export function ruleDifferences(a: NsgRule, b: NsgRule): string[] {
  const fa = fields(a);
  const fb = fields(b);
  return Object.keys(fa).filter((k) => fa[k] !== fb[k]);
}
