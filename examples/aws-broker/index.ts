// A serverless pulumi-jit broker on AWS protecting one EC2 instance: the policy locks SSH, the
// broker (Lambda behind an IAM-authenticated function URL, DynamoDB ledger) opens it on request and
// closes it at the grant's end with a one-time EventBridge Scheduler schedule, with a sweep every
// 5 minutes as a safety net. Build the function package first: node --import tsx scripts/build-handlers.ts
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as jit from "pulumi-jit";

const config = new pulumi.Config();
/** The instance to protect, by id (i-…). */
const instanceId = config.require("instanceId");
const region = new pulumi.Config("aws").require("region");
const instance = ec2.getInstanceOutput({ instanceId });

const broker = new jit.aws.JitBroker("jit", { instanceArns: [instance.arn], region });

// The policy is registered in the broker's ledger, so the broker can grant requests on it.
new jit.aws.JitPolicy(
  "ssh",
  { virtualMachines: [{ id: instance.arn, ports: [{ number: 22, protocol: "TCP", maxRequestAccessDuration: "PT3H" }] }] },
  { dependsOn: [broker] },
);

export const brokerUrl = broker.brokerUrl;
export const ledgerUrl = broker.ledgerUrl;
export const roleArn = broker.roleArn;
