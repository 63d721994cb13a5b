import type { Cloud } from "./model";
import type { CloudDriver } from "./driver";

/**
 * The default driver for a cloud, configured from the environment the way the cloud's own tools
 * are (Azure: DefaultAzureCredential; AWS: the default credential chain and region). SDKs load
 * only when a cloud is first used.
 */
export async function createDriver(cloud: Cloud): Promise<CloudDriver> {
  if (cloud === "azure") return (await import("./azure")).createAzureDriver();
  return (await import("./aws")).createAwsDriver();
}
