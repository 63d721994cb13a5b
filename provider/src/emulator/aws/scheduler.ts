import { z } from "zod";
import type { EmulatorRequest, EmulatorResponse } from "../common";
import { AwsError } from "./errors";
import { RequestContext, evaluate } from "./policy";
import type { Principal } from "./principals";

/**
 * EventBridge Scheduler's schedule API (REST-JSON) as far as exact-time expiry uses it:
 * CreateSchedule, GetSchedule and DeleteSchedule on `/schedules/{Name}?groupName=`. A one-time
 * `at(yyyy-mm-ddThh:mm:ss)` schedule fires once at that time (UTC unless a time zone is named);
 * with `ActionAfterCompletion: DELETE` it is gone after it fired. Nothing fires by itself: a test
 * moves the clock and calls `fire(now)`, which returns the targets' inputs as the service would
 * deliver them, so the test plays the target.
 */
export interface Schedule {
  name: string;
  groupName: string;
  arn: string;
  scheduleExpression: string;
  /** For `at(...)`: when it fires (ms since the epoch). */
  at?: number;
  target: { Arn: string; RoleArn: string; Input?: string };
  actionAfterCompletion: "NONE" | "DELETE";
  state: "ENABLED" | "DISABLED";
  createdAt: number;
}

export interface Delivery {
  schedule: string;
  target: string;
  input: string | undefined;
}

const NAME = /^[0-9a-zA-Z._-]{1,64}$/;
const AT = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;
const MAX_BODY = 64 * 1024;

const CreateBody = z.object({
  ScheduleExpression: z.string().min(1).max(256),
  ScheduleExpressionTimezone: z.string().max(50).optional(),
  FlexibleTimeWindow: z.object({ Mode: z.enum(["OFF", "FLEXIBLE"]), MaximumWindowInMinutes: z.number().int().min(1).max(1440).optional() }),
  Target: z.object({ Arn: z.string().min(1).max(1600), RoleArn: z.string().min(1).max(1600), Input: z.string().max(8192).optional() }).loose(),
  ActionAfterCompletion: z.enum(["NONE", "DELETE"]).optional(),
  State: z.enum(["ENABLED", "DISABLED"]).optional(),
  GroupName: z.string().optional(),
  ClientToken: z.string().max(64).optional(),
  Description: z.string().max(512).optional(),
});

export class SchedulerState {
  private readonly schedules = new Map<string, Schedule>();

  constructor(
    private readonly accountId: string,
    private readonly region: string,
  ) {}

  list(): Schedule[] {
    return [...this.schedules.values()];
  }

  /** Fires every enabled one-time schedule due by `now`; those with ActionAfterCompletion DELETE are removed. */
  fire(now: number): Delivery[] {
    const due = this.list()
      .filter((s) => s.state === "ENABLED" && s.at !== undefined && s.at <= now)
      .sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
    for (const s of due) {
      if (s.actionAfterCompletion === "DELETE") this.schedules.delete(key(s.groupName, s.name));
      else s.state = "DISABLED";
    }
    return due.map((s) => ({ schedule: s.name, target: s.target.Arn, input: s.target.Input }));
  }

  /** Answers one request on `/schedules/…`, as `caller`. */
  serve(req: EmulatorRequest, caller: Principal, now: number): EmulatorResponse {
    try {
      const name = decodeURIComponent(req.url.pathname.slice("/schedules/".length));
      if (!NAME.test(name)) throw new AwsError("ValidationException", "Name must be 1 to 64 letters, digits, '.', '-' or '_'.");
      const body = req.method === "POST" ? parseBody(req.body) : undefined;
      const groupName = (body?.GroupName ?? req.url.searchParams.get("groupName") ?? "default").slice(0, 64);
      const arn = `arn:aws:scheduler:${this.region}:${this.accountId}:schedule/${groupName}/${name}`;
      const action = { POST: "CreateSchedule", GET: "GetSchedule", DELETE: "DeleteSchedule" }[req.method];
      if (!action) throw new AwsError("ValidationException", `${req.method} is not supported on a schedule`);
      authorize(caller, `scheduler:${action}`, arn);
      const id = key(groupName, name);
      const existing = this.schedules.get(id);
      if (action === "GetSchedule" || action === "DeleteSchedule") {
        if (!existing) throw new AwsError("ResourceNotFoundException", `Schedule ${name} does not exist.`, 404);
        if (action === "DeleteSchedule") {
          this.schedules.delete(id);
          return json(200, {});
        }
        return json(200, render(existing));
      }
      const create = body as z.output<typeof CreateBody>;
      if (existing) throw new AwsError("ConflictException", `Schedule ${name} already exists.`, 409);
      authorize(caller, "iam:PassRole", create.Target.RoleArn, new Map([["iam:passedtoservice", ["scheduler.amazonaws.com"]]]));
      const at = fireTime(create.ScheduleExpression, create.ScheduleExpressionTimezone);
      if (at !== undefined && at <= now - 60_000 && create.ActionAfterCompletion === "DELETE") {
        // The service refuses a one-time schedule in the past that would be deleted unfired.
        throw new AwsError("ValidationException", "The schedule expression is in the past.");
      }
      this.schedules.set(id, {
        name,
        groupName,
        arn,
        scheduleExpression: create.ScheduleExpression,
        ...(at === undefined ? {} : { at }),
        target: { Arn: create.Target.Arn, RoleArn: create.Target.RoleArn, ...(create.Target.Input === undefined ? {} : { Input: create.Target.Input }) },
        actionAfterCompletion: create.ActionAfterCompletion ?? "NONE",
        state: create.State ?? "ENABLED",
        createdAt: now,
      });
      return json(200, { ScheduleArn: arn });
    } catch (err) {
      if (err instanceof AwsError) return error(err);
      throw err;
    }
  }
}

function key(group: string, name: string): string {
  return `${group}/${name}`;
}

function parseBody(raw: Buffer): z.output<typeof CreateBody> {
  if (raw.length > MAX_BODY) throw new AwsError("ValidationException", "The request body is too large.");
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8") || "{}");
  } catch {
    throw new AwsError("ValidationException", "The request body is not JSON.");
  }
  const parsed = CreateBody.safeParse(value);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    throw new AwsError("ValidationException", `${first.path.join(".") || "body"}: ${first.message}`);
  }
  return parsed.data;
}

/** When an `at(...)` expression fires, or undefined for `rate(...)` and `cron(...)`. */
function fireTime(expression: string, timezone: string | undefined): number | undefined {
  if (/^(rate|cron)\(.+\)$/.test(expression)) return undefined;
  const m = AT.exec(expression);
  if (!m) throw new AwsError("ValidationException", `Invalid Schedule Expression ${expression.slice(0, 64)}.`);
  if (timezone !== undefined && timezone !== "UTC") throw new AwsError("ValidationException", "This emulator knows only the UTC time zone.");
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) throw new AwsError("ValidationException", `Invalid Schedule Expression ${expression}.`);
  return ms;
}

function authorize(caller: Principal, action: string, resource: string, context: RequestContext = new Map()): void {
  const result = evaluate(caller.policies, action, resource, context);
  if (result.decision !== "allowed") {
    throw new AwsError("AccessDeniedException", `User: ${caller.callerArn} is not authorized to perform: ${action} on resource: ${resource}`, 403);
  }
}

function render(s: Schedule): Record<string, unknown> {
  return {
    Arn: s.arn,
    Name: s.name,
    GroupName: s.groupName,
    ScheduleExpression: s.scheduleExpression,
    Target: s.target,
    ActionAfterCompletion: s.actionAfterCompletion,
    State: s.state,
    FlexibleTimeWindow: { Mode: "OFF" },
    CreationDate: s.createdAt / 1000,
  };
}

function json(status: number, body: unknown): EmulatorResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** Scheduler's REST-JSON errors: the type in `x-amzn-ErrorType`, the text in `Message`. */
export function error(err: AwsError): EmulatorResponse {
  return { status: err.status, headers: { "content-type": "application/json", "x-amzn-errortype": err.code }, body: JSON.stringify({ Message: err.message }) };
}
