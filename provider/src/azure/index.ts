/**
 * The Azure cloud driver: deny baselines and just-in-time allow rules in NSGs and in classic Azure
 * Firewalls (DNAT), through the Azure Resource Manager SDKs (loaded on first use).
 */
import { AzureDriver } from "./driver";
import type { AzureConnection } from "./connection";

export { AzureDriver } from "./driver";
export type { AzureConnection } from "./connection";

/**
 * A driver connected as `connection` says, and for everything it leaves out, as the environment
 * says (`JIT_AZURE_ENDPOINT`, `JIT_AZURE_CA_FILE`, `JIT_AZURE_TOKEN`, else `DefaultAzureCredential`
 * against https://management.azure.com; see `AzureConnection`).
 */
export function createAzureDriver(connection: AzureConnection = {}): AzureDriver {
  return new AzureDriver(connection);
}
