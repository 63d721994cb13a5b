/**
 * Least-privilege roles: the Azure custom role and the AWS IAM policy for each kind of job, read
 * off one table of actions per cloud. The Pulumi components that create them are exported from
 * the `azure` and `aws` namespaces (`azure.JitRole`, `aws.JitRolePolicy`).
 */
export { ROLE_KINDS, parseRoleKind } from "./kinds";
export type { RoleKind } from "./kinds";
export { AZURE_ACTIONS, azureActions } from "./azure-actions";
export type { AzureActionEntry } from "./azure-actions";
export { azureRoleDefinition } from "./azure-role";
export type { AzureRoleDefinition, AzureRoleOptions } from "./azure-role";
export { AWS_ACTIONS, awsActions, awsEntries } from "./aws-actions";
export type { AwsActionEntry, AwsResourceScope } from "./aws-actions";
export { awsPolicyDocument } from "./aws-policy";
export type { AwsPolicyOptions, IamCondition, IamPolicyDocument, IamStatement } from "./aws-policy";
