import type { Cloud } from "./model";
import type { CloudDriver } from "./driver";
import { AWS_REQUEST_ACTIONS } from "./aws/request-actions";
import { AZURE_REQUEST_ACTIONS } from "./azure/request-actions";

/**
 * The default driver for a cloud, configured from the environment the way the cloud's own tools
 * are (Azure: DefaultAzureCredential; AWS: the default credential chain and region). SDKs load
 * only when a cloud is first used.
 */
export async function createDriver(cloud: Cloud): Promise<CloudDriver> {
  if (cloud === "azure") return (await import("./azure")).createAzureDriver();
  return (await import("./aws")).createAwsDriver();
}

/** The cloud actions `requestAccess` checks on each VM in direct mode, by cloud (each driver's `requestActions.direct`). */
export const DEFAULT_REQUEST_ACTIONS: Record<Cloud, readonly string[]> = {
  azure: AZURE_REQUEST_ACTIONS.direct,
  aws: AWS_REQUEST_ACTIONS.direct,
};
