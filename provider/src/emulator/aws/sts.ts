import { decodeAuthorization } from "./authorize";
import { AwsError } from "./errors";
import type { Operation } from "./operations";

export const stsOperations: Record<string, Operation> = {
  GetCallerIdentity: {
    write: false,
    handle: ({ state, caller }) => ({ UserId: caller.userId, Account: state.accountId, Arn: caller.callerArn }),
  },
  /** The decision and context behind an EC2 `UnauthorizedOperation`'s encoded message. */
  DecodeAuthorizationMessage: {
    write: false,
    handle: (_, req) => {
      const decoded = decodeAuthorization(req.required("EncodedMessage"));
      if (!decoded) throw new AwsError("InvalidAuthorizationMessageException", "The encoded authorization message is invalid.");
      return { DecodedMessage: JSON.stringify(decoded) };
    },
  },
};
