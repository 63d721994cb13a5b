import { z } from "zod";
import type { BaselineRecord } from "../driver";
import { IpPermission, JitError } from "../model";
import type { SgBaselineRecord, Tag } from "../plan";

/**
 * What an AWS baseline changed, kept in Pulumi state and the ledger so that removing the policy
 * puts back exactly that: per security group, the ingress rules it revoked (as they were, with
 * description and tags) and the narrower rules it authorized in their place. JSON, no secrets.
 */
const TagSchema = z.strictObject({ Key: z.string(), Value: z.string() });

const GroupRecord = z.strictObject({
  region: z.string().min(1),
  groupId: z.string().min(1),
  vpcId: z.string().optional(),
  revoked: z.array(z.strictObject({ permission: IpPermission, tags: z.array(TagSchema) })),
  added: z.array(IpPermission),
});
export type GroupRecord = z.output<typeof GroupRecord>;

/**
 * An instance's JIT group in one VPC, which the baseline made and attached to its interfaces
 * there: the ledger's record is what makes it ours (its tags only help find it).
 */
const JitGroupRecord = z.strictObject({
  region: z.string().min(1),
  instanceId: z.string().min(1),
  vpcId: z.string().min(1),
  groupId: z.string().min(1),
  networkInterfaceIds: z.array(z.string().min(1)),
});
export type JitGroupRecord = z.output<typeof JitGroupRecord>;

const AwsBaselineRecord = z.strictObject({
  cloud: z.literal("aws"),
  version: z.literal(1),
  /** Whether the policy may change groups shared with instances outside it, as last applied. */
  allowSharedSecurityGroups: z.boolean(),
  groups: z.array(GroupRecord),
  /** Absent in records of earlier versions, which made no JIT groups. */
  jitGroups: z.array(JitGroupRecord).default([]),
});
export type AwsBaselineRecord = z.output<typeof AwsBaselineRecord>;

const EMPTY_RECORD: AwsBaselineRecord = { cloud: "aws", version: 1, allowSharedSecurityGroups: false, groups: [], jitGroups: [] };

/** A stored record; nothing (a policy never applied) reads as empty. */
export function parseRecord(record: BaselineRecord | undefined): AwsBaselineRecord {
  if (record === undefined || Object.keys(record).length === 0) return EMPTY_RECORD;
  const parsed = AwsBaselineRecord.safeParse(record);
  if (!parsed.success) throw new JitError("InvalidInput", `the stored baseline is not an AWS baseline record: ${z.prettifyError(parsed.error)}`, { field: "baseline" });
  return parsed.data;
}

/** JSON as the ledger and Pulumi state take it: no undefined fields. */
function json<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A planner record kept for a group, each revoked rule with the tags it had. */
export function groupRecord(region: string, vpcId: string | undefined, planned: SgBaselineRecord, tagsOf: (p: SgBaselineRecord["revoked"][number]) => readonly Tag[]): GroupRecord {
  return json({
    region,
    groupId: planned.groupId,
    ...(vpcId ? { vpcId } : {}),
    revoked: planned.revoked.map((permission) => ({ permission, tags: tagsOf(permission).map((t) => ({ Key: t.Key ?? "", Value: t.Value ?? "" })) })),
    added: planned.added,
  }) as GroupRecord;
}
