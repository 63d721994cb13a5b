import type { Grant } from "./grant";

/** Where to connect, and the grant that lets the caller in. */
export interface Connection {
  grant: Grant;
  /** True when a live grant of the caller's was used instead of opening another. */
  reused: boolean;
  vmId: string;
  /** The VM's port. */
  port: number;
  /** Where the client connects: the VM's public address and port, or the firewall's and the mapped port. */
  host: string;
  endpointPort: number;
  /** How the way in was found open, in words. */
  detail: string;
}
