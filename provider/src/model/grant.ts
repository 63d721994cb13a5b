import { z } from "zod";
import { JitError } from "./errors";
import { idSchema, randomId } from "./ids";
import { PortNumber } from "./policy";
import { machineText, userText } from "./redact";
import { CheckedRequest, CheckedVm, MAX_JUSTIFICATION_LENGTH } from "./request";
import { UtcInstant, epochMs, utc } from "./time";
import { WHEN_VALID, parseOrThrow } from "./validate";
import { Cloud, VmId, parseVmId, vmKey } from "./vm";

/** 12 characters carry 60 random bits: unique enough, and short enough for rule names (see MAX_POLICY_AND_VM_NAME). */
export const GRANT_ID_LENGTH = 12;
export const GrantId = idSchema(GRANT_ID_LENGTH);

export function newGrantId(random?: (size: number) => Uint8Array): string {
  return randomId(GRANT_ID_LENGTH, random);
}

/**
 * pending → applying → active → restoring → expired | revoked | failed; applying → failed; and
 * any state that is not final → restoring (revoke, or expiry before apply finished). A request
 * that needs approval starts `awaiting-approval` instead of `pending`, with nothing in the cloud:
 * its last approval moves it to applying, one deny to `denied`, its timeout to `expired`
 * (reason ApprovalExpired).
 */
export const GrantState = z.enum(["pending", "applying", "active", "restoring", "expired", "revoked", "failed", "awaiting-approval", "denied"]);
export type GrantState = z.infer<typeof GrantState>;

const NEXT_STATES: Record<GrantState, readonly GrantState[]> = {
  "awaiting-approval": ["applying", "denied", "expired", "restoring"],
  denied: [],
  pending: ["applying", "restoring"],
  applying: ["active", "failed", "restoring"],
  active: ["restoring"],
  restoring: ["expired", "revoked", "failed"],
  expired: [],
  revoked: [],
  failed: [],
};

export function isFinalState(state: GrantState): boolean {
  return NEXT_STATES[state].length === 0;
}

/**
 * Why a grant ended or is ending. The first three are Defender's `statusReason` values;
 * `PolicyChanged` is a revoke because the policy no longer allows the access, `Failed` a grant
 * that could not be applied.
 */
export const GrantReason = z.enum(["Expired", "UserRequested", "NewerRequestInitiated", "PolicyChanged", "Failed", "Denied", "ApprovalExpired"]);
export type GrantReason = z.infer<typeof GrantReason>;

const IMPLIED_REASON: Partial<Record<GrantState, GrantReason>> = { expired: "Expired", failed: "Failed", denied: "Denied" };

/** The reasons each final state admits (`failed` admits any: a revoke whose restore failed is still a revoke). */
const REASONS_FOR: Partial<Record<GrantState, readonly GrantReason[]>> = {
  expired: ["Expired", "ApprovalExpired"],
  revoked: ["UserRequested", "NewerRequestInitiated", "PolicyChanged"],
  denied: ["Denied"],
};

/**
 * Each change is recorded as `intended` before the cloud is touched, so that a crash leaves a
 * record of what may exist; `applied` once the cloud confirmed it, `removed` once restore verified
 * it is gone.
 */
export const ChangeStatus = z.enum(["intended", "applied", "removed"]);
export type ChangeStatus = z.infer<typeof ChangeStatus>;

const JsonObject = z.record(z.string(), z.json());

const changeBase = {
  status: ChangeStatus,
  /** When this change must be undone, if earlier than the grant's end (ports of one request may end at different times). */
  endTimeUtc: UtcInstant.optional(),
};

/** An EC2 `IpPermission`, with the SDK's field names so that it can be handed back to it. */
export const IpPermission = z.strictObject({
  IpProtocol: z.string().min(1),
  FromPort: z.number().int().min(-1).max(65535).optional(),
  ToPort: z.number().int().min(-1).max(65535).optional(),
  IpRanges: z.array(z.strictObject({ CidrIp: z.string(), Description: z.string().optional() })).optional(),
  Ipv6Ranges: z.array(z.strictObject({ CidrIpv6: z.string(), Description: z.string().optional() })).optional(),
  PrefixListIds: z.array(z.strictObject({ PrefixListId: z.string(), Description: z.string().optional() })).optional(),
  UserIdGroupPairs: z
    .array(
      z.strictObject({
        GroupId: z.string().optional(),
        GroupName: z.string().optional(),
        UserId: z.string().optional(),
        VpcId: z.string().optional(),
        VpcPeeringConnectionId: z.string().optional(),
        PeeringStatus: z.string().optional(),
        Description: z.string().optional(),
      }),
    )
    .optional(),
});
export type IpPermission = z.output<typeof IpPermission>;

export const Change = z
  .discriminatedUnion("kind", [
    /** An allow rule in an NSG; `rule` is the rule's `properties` as written. */
    z.strictObject({
      kind: z.literal("azure-nsg-rule"),
      ...changeBase,
      nsgId: z.string().min(1),
      ruleName: z.string().min(1),
      priority: z.number().int().min(100).max(4096),
      rule: JsonObject,
    }),
    /**
     * A DNAT rule in a classic Azure Firewall: firewall public IP:`mappedPort` → VM `vmId`:`port`.
     * `rule` is the DNAT rule's properties as written (`destinationAddresses` holds the public IP);
     * the Azure driver adds under `allow` the network rule it wrote with it, if any.
     */
    z.strictObject({
      kind: z.literal("azure-firewall-nat-rule"),
      ...changeBase,
      firewallId: z.string().min(1),
      collectionName: z.string().min(1),
      ruleName: z.string().min(1),
      vmId: VmId,
      port: PortNumber,
      mappedPort: PortNumber,
      rule: JsonObject,
    }),
    /** Ingress rules authorised in a security group; their ids are known once applied. */
    z.strictObject({
      kind: z.literal("aws-sg-rule"),
      ...changeBase,
      groupId: z.string().min(1),
      ruleIds: z.array(z.string().min(1)),
      permission: IpPermission,
    }),
    /**
     * A security group created for the grant and attached to these network interfaces. Its id is
     * only known once created, so the intent names the group; `groupId` is required once applied.
     */
    z.strictObject({
      kind: z.literal("aws-sg"),
      ...changeBase,
      groupName: z.string().min(1),
      groupId: z.string().min(1).optional(),
      vpcId: z.string().min(1).optional(),
      networkInterfaceIds: z.array(z.string().min(1)),
    }),
  ])
  .superRefine((change, ctx) => {
    // A removed group may never have been created (the process died before EC2 answered), so it has no id.
    if (change.kind === "aws-sg" && change.status === "applied" && change.groupId === undefined) {
      ctx.addIssue({ code: "custom", path: ["groupId"], message: `is required once the group is ${change.status}`, input: change });
    }
  }, WHEN_VALID);
export type Change = z.output<typeof Change>;
/** One kind of change, e.g. `ChangeOf<"aws-sg">`. */
export type ChangeOf<K extends Change["kind"]> = Extract<Change, { kind: K }>;

/** JSON with object keys sorted, so that equal values have equal text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * What a change is about, whatever its status: its intent, its application and its removal share
 * one key. Azure names compare case-insensitively, as ARM does; a security group is known by its
 * name because its id does not exist yet when the intent is recorded.
 */
export function changeKey(change: Change): string {
  switch (change.kind) {
    case "azure-nsg-rule":
      return `${change.kind}:${change.nsgId}/${change.ruleName}`.toLowerCase();
    case "azure-firewall-nat-rule":
      return `${change.kind}:${change.firewallId}/${change.collectionName}/${change.ruleName}`.toLowerCase();
    case "aws-sg-rule":
      return `${change.kind}:${change.groupId}:${stableJson(change.permission)}`;
    case "aws-sg":
      return `${change.kind}:${change.vpcId ?? ""}:${change.groupName}`;
  }
}

/** One approver's decision on a held request. */
export const ApprovalVote = z.strictObject({
  approver: z.string().min(1).max(512),
  /** A readable name where the approver's identity has one (UPN, role session). */
  name: z.string().min(1).max(512).optional(),
  decision: z.enum(["approve", "deny"]),
  time: UtcInstant,
  reason: userText(MAX_JUSTIFICATION_LENGTH).optional(),
});
export type ApprovalVote = z.output<typeof ApprovalVote>;

/** What a request that needed approval needs and got. Votes are written by compare-and-swap, so none is lost to a concurrent one. */
export const GrantApproval = z.strictObject({
  required: z.number().int().min(1).max(10),
  /** When the request expires unless it has been decided. */
  expiresAt: UtcInstant,
  votes: z.array(ApprovalVote).max(100),
  /** When the last approval (or the deny) came: the access window starts here. */
  decidedAt: UtcInstant.optional(),
});
export type GrantApproval = z.output<typeof GrantApproval>;

export const Grant = z
  .strictObject({
    id: GrantId,
    policy: z.string().min(1),
    cloud: Cloud,
    requester: z.string().min(1),
    justification: userText(MAX_JUSTIFICATION_LENGTH).optional(),
    virtualMachines: z.array(CheckedVm).min(1),
    createdAt: UtcInstant,
    /** The latest end of any port: when the whole grant is over. */
    endTimeUtc: UtcInstant,
    state: GrantState,
    reason: GrantReason.optional(),
    /** What went wrong, for a grant that failed. */
    error: machineText(2000).optional(),
    /** Bumped by the ledger on every update (optimistic concurrency). */
    version: z.number().int().min(1),
    changes: z.array(Change),
    /** Present when the request needed approval. */
    approval: GrantApproval.optional(),
    /** Granted as emergency access, without approval (see the policy's `breakGlass`). */
    breakGlass: z.literal(true).optional(),
    /** Granted without waiting for approval because the request matched this `autoApprove` rule (its index in the policy). */
    autoApproved: z.number().int().min(0).optional(),
    /** The "expiring soon" notification was queued (once per grant). */
    expiryAnnounced: z.literal(true).optional(),
  })
  .superRefine((grant, ctx) => {
    const latest = utc(Math.max(...grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => Date.parse(p.endTimeUtc)))));
    if (grant.endTimeUtc !== latest) {
      ctx.addIssue({ code: "custom", path: ["endTimeUtc"], message: `must be the latest port end, ${latest}`, input: grant.endTimeUtc });
    }
    if (grant.state === "awaiting-approval" && grant.approval === undefined) {
      ctx.addIssue({ code: "custom", path: ["approval"], message: "is required while the grant awaits approval", input: grant });
    }
    grant.virtualMachines.forEach((vm, i) => {
      if (parseVmId(vm.id).cloud !== grant.cloud) {
        ctx.addIssue({ code: "custom", path: ["virtualMachines", i, "id"], message: `is not an ${grant.cloud} VM`, input: vm.id });
      }
    });
  }, WHEN_VALID);
export type Grant = z.output<typeof Grant>;

export function parseGrant(input: unknown, prefix = ""): Grant {
  return parseOrThrow(Grant, input, "grant", prefix);
}

/** A new grant for a checked request: `pending`, version 1, nothing changed yet. */
export function newGrant(request: CheckedRequest, options: { id?: string } = {}): Grant {
  if (request.requester === undefined) {
    throw new JitError("InvalidInput", "a grant needs the requester's identity", { field: "requester" });
  }
  return parseGrant({
    id: options.id ?? newGrantId(),
    policy: request.policy,
    cloud: request.cloud,
    requester: request.requester,
    ...(request.justification === undefined ? {} : { justification: request.justification }),
    virtualMachines: request.virtualMachines,
    createdAt: request.startTimeUtc,
    endTimeUtc: request.endTimeUtc,
    state: "pending",
    version: 1,
    changes: [],
  });
}

/** The changes that may still exist in the cloud. */
export function openChanges(grant: Grant): Change[] {
  return grant.changes.filter((c) => c.status !== "removed");
}

function illegal(grant: Grant, message: string): never {
  throw new JitError("InvalidInput", `grant ${grant.id}: ${message}`, { field: "state" });
}

/**
 * Moves a grant to another state, or throws `InvalidInput` (field `state`) if the state machine
 * does not allow the move. Entering `restoring` or a final state needs a reason (given, kept from
 * before, or implied: `expired` → Expired, `failed` → Failed); `expired` and `revoked` also need
 * every change removed, because they promise that the network is back as it was. The version is
 * left alone: the ledger bumps it when it stores the result.
 */
export function transition(grant: Grant, to: GrantState, reason?: GrantReason, error?: string): Grant {
  const allowed = NEXT_STATES[grant.state];
  if (!allowed.includes(to)) {
    illegal(grant, `${grant.state} cannot become ${to}${allowed.length ? ` (it can become ${allowed.join(" or ")})` : `; ${grant.state} is final`}`);
  }
  const ending = to === "restoring" || isFinalState(to);
  if (!ending && reason !== undefined) illegal(grant, `a reason is given only when a grant ends, not when it becomes ${to}`);
  const why = reason ?? grant.reason ?? IMPLIED_REASON[to];
  if (ending && why === undefined) illegal(grant, `becoming ${to} needs a reason`);
  const admitted = REASONS_FOR[to];
  if (admitted && (why === undefined || !admitted.includes(why))) illegal(grant, `${to} needs reason ${admitted.join(" or ")}, not ${why}`);
  const open = openChanges(grant);
  if ((to === "expired" || to === "revoked") && open.length > 0) {
    illegal(grant, `${open.length} change(s) not yet removed (${open.map((c) => `${c.kind} ${c.status}`).join(", ")}); restore them before the grant is ${to}`);
  }
  return parseGrant({ ...grant, state: to, ...(why === undefined ? {} : { reason: why }), ...(error === undefined ? {} : { error }) });
}

/**
 * From when a grant needs the reconciler (ms since the epoch), or undefined if it never will again.
 * A grant in progress is due at its end, or earlier if one of its changes must be undone earlier;
 * a restore that has begun is due at once (it was interrupted, or is running); a final grant is
 * due at once only while some change may still exist (a failed apply or restore). Ledgers index
 * this value, so that "what is due by time T" is a range read, not a scan of history.
 */
export function restoreDueAt(grant: Grant): number | undefined {
  const open = openChanges(grant);
  const created = epochMs(grant.createdAt);
  if (isFinalState(grant.state)) return open.length > 0 ? created : undefined;
  if (grant.state === "restoring") return created;
  // A held request is due when its approvals time out: the reconciler expires it.
  if (grant.state === "awaiting-approval" && grant.approval) return epochMs(grant.approval.expiresAt);
  return Math.min(epochMs(grant.endTimeUtc), ...open.map((c) => (c.endTimeUtc === undefined ? Infinity : epochMs(c.endTimeUtc))));
}

/**
 * How a grant's port is reached when a classic Azure Firewall stands in front of the VM: the
 * firewall's public address and the port mapped there to the VM's port (Defender's `mappedPort`),
 * read from the grant's DNAT change, whose `rule` is the DNAT rule as written. Undefined for a port
 * reached directly.
 */
export function firewallMapping(grant: Grant, vmId: string, port: number): { address?: string; mappedPort: number } | undefined {
  const key = vmKey(parseVmId(vmId));
  const nat = grant.changes.find((c): c is ChangeOf<"azure-firewall-nat-rule"> => c.kind === "azure-firewall-nat-rule" && c.port === port && vmKey(parseVmId(c.vmId)) === key);
  if (!nat) return undefined;
  const addresses = nat.rule.destinationAddresses;
  const address = Array.isArray(addresses) && typeof addresses[0] === "string" ? addresses[0] : undefined;
  return { ...(address === undefined ? {} : { address }), mappedPort: nat.mappedPort };
}

/** Defender's view of a grant: `Initiated` while access may be open, `Revoked` with the reason once it is ending or over. */
export function defenderStatus(grant: Grant): { status: "Initiated" | "Revoked"; statusReason: string } {
  if (grant.state === "pending" || grant.state === "applying" || grant.state === "active" || grant.state === "awaiting-approval") {
    return { status: "Initiated", statusReason: "UserRequested" };
  }
  return { status: "Revoked", statusReason: grant.reason ?? "UserRequested" };
}
