import type { Caller } from "../../access";
import type { Cloud } from "../../model";
import { AwsStsVerifier } from "./aws";
import { AzureTokenVerifier } from "./azure";
import { refuse } from "./errors";

export { AuthenticationError } from "./errors";
export { AzureTokenVerifier, ARM_AUDIENCES, type AzureVerifierOptions } from "./azure";
export { AwsStsVerifier, BROKER_ID_HEADER, GET_CALLER_IDENTITY_BODY, SignedStsRequest, principalOfArn, type AwsVerifierOptions } from "./aws";

/** The `Authorization` schemes the broker accepts: an Entra ID token, or a signed STS request. */
export const AZURE_SCHEME = "Bearer";
export const AWS_SCHEME = "JIT-AWS-STS";

/** A caller the broker has authenticated, and the cloud whose identity it proved (none for the development identity). */
export interface BrokerCaller extends Caller {
  cloud?: Cloud;
}

export interface Authenticators {
  azure?: AzureTokenVerifier;
  aws?: AwsStsVerifier;
  /** `jit serve --dev-identity`: every request is this identity, unproven (loopback only). */
  devIdentity?: string;
}

/** Who sent a request, from its `Authorization` header; throws `AuthenticationError` (401) otherwise. */
export async function authenticate(auth: Authenticators, header: string | undefined): Promise<BrokerCaller> {
  if (auth.devIdentity !== undefined) return { principal: { id: auth.devIdentity, name: auth.devIdentity }, mode: "brokered", unproven: true };
  if (header === undefined || header === "") refuse(`no credentials: send "Authorization: ${[auth.azure && AZURE_SCHEME, auth.aws && AWS_SCHEME].filter(Boolean).join("\" or \"")} …"`);
  const space = header.indexOf(" ");
  const scheme = space > 0 ? header.slice(0, space) : header;
  const credential = space > 0 ? header.slice(space + 1).trim() : "";
  if (scheme.toLowerCase() === AZURE_SCHEME.toLowerCase() && auth.azure) {
    const { principal } = await auth.azure.verify(credential);
    return { principal, mode: "brokered", token: credential, cloud: "azure" };
  }
  if (scheme.toUpperCase() === AWS_SCHEME && auth.aws) {
    const { principal } = await auth.aws.verify(AwsStsVerifier.decode(credential));
    return { principal, mode: "brokered", cloud: "aws" };
  }
  return refuse(`the ${JSON.stringify(scheme.slice(0, 32))} authorization scheme is not accepted here`);
}
