import { modules } from "../context";
import type { Column } from "../output";
import type { Grant } from "../../model";

/**
 * The "connect to" column of grant tables: for a port that goes through a classic Azure Firewall,
 * the firewall's public address and the port mapped there (`198.51.100.10:50022`, Defender's
 * `mappedPort`). Only tables where some row has one get the column, so output for grants that
 * reach VMs directly is as it always was.
 */
export function connectColumn<T>(rows: readonly T[], of: (row: T) => { grant: Grant; vmId: string; port: number }): Column<T>[] {
  const { firewallMapping } = modules.model;
  const endpoint = (row: T) => {
    const { grant, vmId, port } = of(row);
    const mapping = firewallMapping(grant, vmId, port);
    return mapping ? `${mapping.address ?? "?"}:${mapping.mappedPort}` : "";
  };
  return rows.some((r) => endpoint(r) !== "") ? [{ header: "connect to", value: endpoint }] : [];
}
