import type { EC2ClientConfig } from "@aws-sdk/client-ec2";

/**
 * How the AWS driver reaches AWS. Everything is optional: the Pulumi provider and the CLI pass
 * nothing and get their connection from the environment, exactly as the AWS CLI would.
 *
 * - Region (for instances given by bare id, and the one `sweep` searches by default): `region`,
 *   else `AWS_REGION`, else `AWS_DEFAULT_REGION` (which the AWS CLI reads and the JavaScript SDK
 *   does not), else the profile's `region`. An instance ARN carries its own region.
 * - Credentials: `credentials`, else the SDK's default chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
 *   `AWS_SESSION_TOKEN`, SSO, `AWS_PROFILE` and the shared files, web identity, container and
 *   instance roles).
 * - Endpoint: `endpoint` for EC2, STS and IAM alike (a local endpoint), else the SDK's own
 *   resolution, which honours `AWS_ENDPOINT_URL`, the per-service `AWS_ENDPOINT_URL_EC2`,
 *   `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL_IAM`, the profile's `endpoint_url`, and
 *   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`.
 */
export interface AwsConnection {
  region?: string;
  endpoint?: string;
  credentials?: EC2ClientConfig["credentials"];
  /** A named profile of the shared config files (default: `AWS_PROFILE`, else "default"). */
  profile?: string;
  /** Attempts per API call, the SDK's retries included (default 5). */
  maxAttempts?: number;
  /**
   * The SDK's retry mode: `adaptive` (the default) also slows this process's own calls down when
   * EC2 throttles, which matters because Authorize/RevokeSecurityGroupIngress sit in EC2's lowest
   * request-rate bucket; `standard` only retries.
   */
  retryMode?: "standard" | "adaptive";
  /** Items per page of Describe* calls, 5 to 1000 (default 1000). */
  pageSize?: number;
  /** The account's EC2 quotas, where they were raised. */
  limits?: { groupsPerInterface?: number; rulesPerGroup?: number };
  /** Ceiling of the first wait of our own retries (eventual consistency, races), doubling each time, with full jitter; default 500 ms. */
  backoffMs?: number;
}

/**
 * The region to configure clients with, or undefined to let the SDK find it in the profile. The
 * AWS CLI's order: `AWS_REGION` over `AWS_DEFAULT_REGION` over the profile.
 */
export function configuredRegion(connection: AwsConnection, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return connection.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined);
}
