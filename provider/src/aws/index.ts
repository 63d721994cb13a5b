import type { AwsConnection } from "./connection";
import { AwsDriver } from "./driver";

export { AwsDriver } from "./driver";
export type { AwsConnection } from "./connection";

/**
 * The AWS driver behind `requestAccess`, `revokeAccess`, `sweep` and `aws.JitPolicy`. With no
 * connection it is configured from the environment as the AWS CLI is (see `AwsConnection`); give
 * `{ region, endpoint, credentials }` to point it at a particular account or a local endpoint.
 */
export function createAwsDriver(connection: AwsConnection = {}): AwsDriver {
  return new AwsDriver(connection);
}
