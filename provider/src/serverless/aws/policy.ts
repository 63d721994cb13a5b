import { AwsPolicyOptions, IamPolicyDocument, IamStatement, awsPolicyDocument } from "../../roles";

/** The DynamoDB actions the ledger's store makes (provider/src/ledger/dynamodb.ts), and no more. */
export const LEDGER_TABLE_ACTIONS = ["dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"];

export interface BrokerFunctionPolicyOptions extends Omit<AwsPolicyOptions, "kind"> {
  /** The ledger table's ARN; its indexes are `<arn>/index/*`. */
  ledgerTableArn: string;
  /** Exact-time expiry: the schedule group's name and the role EventBridge Scheduler invokes the expiry function with. */
  expiry?: { scheduleGroupArn: string; schedulerRoleArn: string };
}

/**
 * The broker functions' identity policy: the broker role of `jit role aws --kind broker`
 * (statement for statement), the ledger table, and for exact-time expiry the creation of schedules
 * in its own group with its own scheduler role. Logs come from AWSLambdaBasicExecutionRole.
 */
export function brokerFunctionPolicy(options: BrokerFunctionPolicyOptions): IamPolicyDocument {
  const { ledgerTableArn, expiry, ...scope } = options;
  const statements: IamStatement[] = [
    ...awsPolicyDocument({ ...scope, kind: "broker" }).Statement,
    { Sid: "Ledger", Effect: "Allow", Action: LEDGER_TABLE_ACTIONS, Resource: [ledgerTableArn, `${ledgerTableArn}/index/*`] },
  ];
  if (expiry) {
    statements.push(
      { Sid: "ScheduleExpiry", Effect: "Allow", Action: ["scheduler:CreateSchedule"], Resource: [`${expiry.scheduleGroupArn.replace(":schedule-group/", ":schedule/")}/*`] },
      {
        Sid: "PassSchedulerRole",
        Effect: "Allow",
        Action: ["iam:PassRole"],
        Resource: [expiry.schedulerRoleArn],
        Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
      },
    );
  }
  return { Version: "2012-10-17", Statement: statements };
}
