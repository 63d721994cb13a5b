import type { EmulatorRequest } from "../common";
import { AwsError } from "./errors";
import type { Principal, Principals } from "./principals";
import type { ServiceName } from "./protocol";
import { MAX_SKEW_MS, SignedScope, checkSignature, expiredMessage, parseAuthorization, requestTime } from "./sigv4";

/**
 * Who signed a request, or the error the service answers instead, in each service's own words:
 * EC2 says `AuthFailure` where STS and IAM say `InvalidClientTokenId`, and `RequestExpired` where
 * they say `SignatureDoesNotMatch` "Signature expired".
 */
export interface Authenticated {
  scope: SignedScope;
  caller: Principal;
}

export function authenticate(req: EmulatorRequest, service: ServiceName, principals: Principals, options: { verifySignatures: boolean; now: number }): Authenticated {
  const authorization = req.headers.authorization;
  if (authorization === undefined) throw new AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403);
  const scope = parseAuthorization(authorization);
  if (!scope) {
    throw service === "ec2"
      ? new AwsError("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
      : new AwsError("IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters in AWS4-HMAC-SHA256 form.", 403);
  }
  const invalidKey = () =>
    service === "ec2"
      ? new AwsError("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
      : new AwsError("InvalidClientTokenId", "The security token included in the request is invalid.", 403);
  const caller = principals.byAccessKey(scope.accessKeyId);
  if (!caller) throw invalidKey();
  if (options.verifySignatures) {
    const time = requestTime(req);
    if (!time) throw new AwsError(service === "ec2" ? "AuthFailure" : "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", service === "ec2" ? 401 : 403);
    if (Math.abs(time.ms - options.now) > MAX_SKEW_MS) {
      throw service === "ec2" ? new AwsError("RequestExpired", "Request has expired.", 400) : new AwsError("SignatureDoesNotMatch", expiredMessage(time.amzDate, time.ms, options.now), 403);
    }
    const wrong = checkSignature(req, scope, caller.credentials.secretAccessKey, time.amzDate);
    if (wrong !== undefined) throw new AwsError("SignatureDoesNotMatch", wrong, 403);
    // Session credentials are only valid with their token, and long-term keys with none.
    const token = req.headers["x-amz-security-token"];
    if ((typeof token === "string" ? token : undefined) !== caller.credentials.sessionToken) throw invalidKey();
  }
  return { scope, caller };
}
