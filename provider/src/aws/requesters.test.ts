import { test } from "node:test";
import assert from "node:assert/strict";
import { awsRequesterMatches } from "./requesters";

const who = (arn: string) => ({ id: arn, name: arn.slice(arn.lastIndexOf("/") + 1) });

test("users, roles and roots match their own ARN, wildcards included", () => {
  assert.ok(awsRequesterMatches("arn:aws:iam::123456789012:user/ana", who("arn:aws:iam::123456789012:user/ana")));
  assert.ok(awsRequesterMatches("arn:aws:iam::123456789012:user/ops/*", who("arn:aws:iam::123456789012:user/ops/ana")));
  assert.ok(!awsRequesterMatches("arn:aws:iam::123456789012:user/ana", who("arn:aws:iam::123456789012:user/anabel")));
  assert.ok(!awsRequesterMatches("arn:aws:iam::123456789012:user/ana", who("arn:aws:iam::210987654321:user/ana")));
});

test("a role session matches its session ARN and its role, with or without the role's path", () => {
  const session = who("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0a1b2c3d/ana@example.com");
  assert.ok(awsRequesterMatches("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0a1b2c3d/ana@example.com", session));
  assert.ok(awsRequesterMatches("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_*/*", session));
  assert.ok(awsRequesterMatches("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Ops_0a1b2c3d", session));
  assert.ok(awsRequesterMatches("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Ops_*", session));
  assert.ok(awsRequesterMatches("arn:aws:iam::123456789012:role/AWSReservedSSO_Ops_0a1b2c3d", session));
  assert.ok(!awsRequesterMatches("arn:aws:iam::123456789012:role/AWSReservedSSO_Dev_*", session));
  assert.ok(!awsRequesterMatches("arn:aws:iam::210987654321:role/AWSReservedSSO_Ops_0a1b2c3d", session));
  assert.ok(!awsRequesterMatches("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0a1b2c3d/bob", session));
  assert.ok(!awsRequesterMatches("arn:aws:iam::123456789012:user/AWSReservedSSO_Ops_0a1b2c3d", session), "a user entry never matches a role session");
});
