import { createHash } from "node:crypto";
import { ConflictException, CreateScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import type { ExpiryEvent, ExpiryScheduler } from "../../access";

export interface EventBridgeExpiryOptions {
  /** The expiry function's ARN, which each schedule invokes. */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke it (lambda:InvokeFunction on that function only). */
  roleArn: string;
  /** The schedule group (default "default"). */
  groupName?: string;
  client?: SchedulerClient;
}

/**
 * Exact-time expiry on AWS: one EventBridge Scheduler one-time schedule per port end, `at(…)` the
 * end rounded up to the second (never early), deleted by the service after it ran. Its input is
 * the expiry event. A schedule of the same name already there is the same expiry (a retried
 * request), so a conflict is success.
 */
export class EventBridgeExpiryScheduler implements ExpiryScheduler {
  private readonly client: SchedulerClient;

  constructor(private readonly options: EventBridgeExpiryOptions) {
    this.client = options.client ?? new SchedulerClient({});
  }

  async schedule(event: ExpiryEvent, at: Date): Promise<void> {
    const seconds = Math.ceil(at.getTime() / 1000);
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: scheduleName(event.grantId, seconds),
          GroupName: this.options.groupName ?? "default",
          ScheduleExpression: `at(${new Date(seconds * 1000).toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: "UTC",
          FlexibleTimeWindow: { Mode: "OFF" },
          ActionAfterCompletion: "DELETE",
          Target: {
            Arn: this.options.targetArn,
            RoleArn: this.options.roleArn,
            Input: JSON.stringify(event),
            // An expiry that cannot be delivered is left to the sweep after a few tries.
            RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
          },
          Description: `pulumi-jit: end grant ${event.grantId}`,
        }),
      );
    } catch (err) {
      if (err instanceof ConflictException) return;
      throw err;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** `jit-<grant>-<end>`: unique per grant and end, within Scheduler's 64 characters. */
export function scheduleName(grantId: string, endSeconds: number): string {
  const name = `jit-${grantId}-${endSeconds}`;
  return name.length <= 64 ? name : `jit-${createHash("sha256").update(name).digest("hex").slice(0, 40)}`;
}
