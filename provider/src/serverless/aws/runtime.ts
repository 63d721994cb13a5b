import type { AccessContext } from "../../access";
import { ServerlessEnv, lazyValue, openServerlessContext, readEnv } from "../config";
import { EventBridgeExpiryScheduler } from "./scheduler";

/**
 * The AWS functions' shared set-up, made once per warm instance: the environment, and the access
 * context with exact-time expiry through EventBridge Scheduler when the expiry target is set
 * (JIT_EXPIRY_TARGET_ARN, JIT_EXPIRY_ROLE_ARN, JIT_EXPIRY_GROUP).
 */
let env: ServerlessEnv | undefined;

export function awsEnv(): ServerlessEnv {
  return (env ??= readEnv());
}

export const awsContext = lazyValue(async (): Promise<AccessContext> => {
  const { JIT_EXPIRY_TARGET_ARN: targetArn, JIT_EXPIRY_ROLE_ARN: roleArn, JIT_EXPIRY_GROUP: groupName } = process.env;
  const expiry = targetArn && roleArn ? new EventBridgeExpiryScheduler({ targetArn, roleArn, ...(groupName ? { groupName } : {}) }) : undefined;
  return openServerlessContext(awsEnv(), expiry);
});
