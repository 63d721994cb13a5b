import type { EC2Client } from "@aws-sdk/client-ec2";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { STSClient } from "@aws-sdk/client-sts";
import { JitError } from "../model";
import { AwsConnection, configuredRegion } from "./connection";
import { Ec2Api } from "./ec2";

/** More than the SDK's 3: a burst of grants on a busy account can be throttled more than twice in a row. */
const DEFAULT_ATTEMPTS = 5;

type IamSdk = typeof import("@aws-sdk/client-iam");
type StsSdk = typeof import("@aws-sdk/client-sts");

/** What every SDK client of a driver is configured with. */
export function sdkConfig(c: AwsConnection, region: string | undefined): Pick<AwsConnection, "region" | "endpoint" | "credentials" | "profile" | "maxAttempts" | "retryMode"> {
  return {
    ...(region ? { region } : {}),
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.credentials ? { credentials: c.credentials } : {}),
    ...(c.profile ? { profile: c.profile } : {}),
    maxAttempts: c.maxAttempts ?? DEFAULT_ATTEMPTS,
    retryMode: c.retryMode ?? "adaptive",
  };
}

/**
 * The SDK clients of one driver: an EC2 client per region, made on first use, and one STS and one
 * IAM client. The SDKs are loaded only then, so that importing pulumi-jit stays light.
 */
export class AwsClients {
  private readonly ec2s = new Map<string, Promise<{ api: Ec2Api; client: EC2Client }>>();
  private region?: Promise<string>;
  private stsClient?: Promise<{ sdk: StsSdk; client: STSClient }>;
  private iamClient?: Promise<{ sdk: IamSdk; client: IAMClient }>;

  constructor(readonly connection: AwsConnection) {}

  private config(region: string | undefined) {
    return sdkConfig(this.connection, region);
  }

  /** The region for bare instance ids: configured, or the profile's as the SDK finds it. */
  defaultRegion(): Promise<string> {
    this.region ??= (async () => {
      const configured = configuredRegion(this.connection);
      if (configured) return configured;
      const { EC2Client } = await import("@aws-sdk/client-ec2");
      const probe = new EC2Client(this.config(undefined));
      try {
        return await probe.config.region();
      } catch (err) {
        throw new JitError("InvalidInput", "no AWS region is configured: set AWS_REGION (or AWS_DEFAULT_REGION), give the profile a region, or name instances by ARN", { cause: err });
      } finally {
        probe.destroy();
      }
    })();
    return this.region;
  }

  async ec2(region: string): Promise<Ec2Api> {
    let made = this.ec2s.get(region);
    if (!made) {
      made = import("@aws-sdk/client-ec2").then((sdk) => {
        const client = new sdk.EC2Client(this.config(region));
        return { api: new Ec2Api(region, sdk, client, this.connection.pageSize ?? 1000), client };
      });
      this.ec2s.set(region, made);
    }
    return (await made).api;
  }

  async sts(): Promise<{ sdk: StsSdk; client: STSClient }> {
    const region = await this.defaultRegion();
    this.stsClient ??= import("@aws-sdk/client-sts").then((sdk) => ({ sdk, client: new sdk.STSClient(this.config(region)) }));
    return this.stsClient;
  }

  /** IAM is global; its client takes the default region only to find the partition's endpoint. */
  async iam(): Promise<{ sdk: IamSdk; client: IAMClient }> {
    const region = await this.defaultRegion();
    this.iamClient ??= import("@aws-sdk/client-iam").then((sdk) => ({ sdk, client: new sdk.IAMClient(this.config(region)) }));
    return this.iamClient;
  }

  /** Closes every client's connections. */
  async destroy(): Promise<void> {
    const made = [...this.ec2s.values(), this.stsClient, this.iamClient].filter((m) => m !== undefined);
    for (const m of await Promise.allSettled(made)) if (m.status === "fulfilled") m.value.client.destroy();
  }
}
