import type { Operation } from "./operations";

export const stsOperations: Record<string, Operation> = {
  GetCallerIdentity: {
    write: false,
    handle: ({ state, caller }) => ({ UserId: caller.userId, Account: state.accountId, Arn: caller.callerArn }),
  },
};
