import type { Protocol } from "../model/protocol";

/** A port a policy selects on a VM, with the policy's protocol for it. */
export interface PortSpec {
  number: number;
  protocol: Protocol;
}

/** One port of a grant: who may connect, and until when. */
export interface GrantPort extends PortSpec {
  /** An IP, a CIDR or `*`, already checked against the policy. */
  source: string;
  expiresAt: Date;
}
