import type { Protocol } from "../model/protocol";
import type { NsgProtocol } from "./nsg/types";

/** A policy protocol as an NSG rule spells it. */
export function nsgProtocol(protocol: Protocol): NsgProtocol {
  return protocol === "TCP" ? "Tcp" : protocol === "UDP" ? "Udp" : "*";
}

/** The EC2 protocols a policy protocol stands for: security groups have no "TCP and UDP" rule. */
export function ec2Protocols(protocol: Protocol): Array<"tcp" | "udp"> {
  return protocol === "TCP" ? ["tcp"] : protocol === "UDP" ? ["udp"] : ["tcp", "udp"];
}

const TOKENS: Record<Protocol, string> = { TCP: "tcp", UDP: "udp", "*": "all" };

/** The protocol as it appears in our rule names: `tcp`, `udp`, `all`. */
export function protocolToken(protocol: Protocol): string {
  return TOKENS[protocol];
}

export function protocolFromToken(token: string): Protocol | undefined {
  return (Object.keys(TOKENS) as Protocol[]).find((p) => TOKENS[p] === token);
}
