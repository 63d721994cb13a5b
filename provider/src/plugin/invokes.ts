import { withContext } from "../access/context";
import { JitError, checkRequest, isJitError, policyCloud } from "../model";
import { bareMessage } from "../model/validate";
import type { GrantFilter } from "../ledger";
import { checkFunctionInputs, type InputFailure, type PackageSchema } from "./schema";

/**
 * The package's functions (invokes). Programs call them during `pulumi preview` as well as during
 * `pulumi up`, so every one only reads: none opens a port, writes the ledger or calls a cloud API.
 * Opening access stays with `jit request`, the broker and `requestAccess`, which authorise the
 * caller and record who asked.
 */
type Invoke = (args: Record<string, unknown>) => Promise<Record<string, unknown>>;

const MAX_GRANTS = 1000;

const INVOKES: Record<string, Invoke> = {
  /** The policy a JitPolicy registered, as the ledger holds it. */
  "pulumi-jit:index:getPolicy": async (args) =>
    withContext({}, async (ctx) => {
      const record = await ctx.ledger.getPolicy(String(args.name));
      if (!record) throw new JitError("NotFound", `no policy named "${String(args.name)}" is registered in the ledger`, { field: "name" });
      return { name: record.policy.name, cloud: policyCloud(record.policy), policy: record.policy, updatedAt: record.updatedAt };
    }),

  /** Grants from the ledger, newest first as the ledger lists them, at most `limit` (default 100). */
  "pulumi-jit:index:listGrants": async (args) => {
    const limit = args.limit === undefined ? 100 : Number(args.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GRANTS) throw new JitError("InvalidInput", `must be a whole number from 1 to ${MAX_GRANTS}`, { field: "limit" });
    const filter: GrantFilter = { limit };
    if (typeof args.policy === "string") filter.policy = args.policy;
    if (typeof args.vm === "string") filter.vm = args.vm;
    if (Array.isArray(args.states)) filter.state = args.states as GrantFilter["state"];
    return withContext({}, async (ctx) => ({ grants: await ctx.ledger.listGrants(filter) }));
  },

  /**
   * Whether the policy would allow a request, and what it would grant, without granting it: the
   * same check `jit request` makes before it touches anything. The caller's permissions are not
   * checked here (that needs their credentials, at request time).
   */
  "pulumi-jit:index:checkRequest": async (args) =>
    withContext({}, async (ctx) => {
      const name = String(args.policy);
      const record = await ctx.ledger.getPolicy(name);
      if (!record) throw new JitError("NotFound", `no policy named "${name}" is registered in the ledger`, { field: "policy" });
      const { policy: _policy, ...request } = args;
      try {
        const checked = checkRequest(record.policy, request as never, { now: ctx.now() });
        return { allowed: true, endTimeUtc: checked.endTimeUtc, virtualMachines: checked.virtualMachines };
      } catch (err) {
        if (!isJitError(err, "RequestNotAllowed") && !isJitError(err, "InvalidInput")) throw err;
        return { allowed: false, reason: bareMessage(err), ...(err.field ? { field: err.field } : {}) };
      }
    }),
};

export const INVOKE_TOKENS = Object.keys(INVOKES);

/** Runs an invoke: arguments checked against the schema first, each problem reported with its path. */
export async function invoke(doc: PackageSchema, token: string, args: Record<string, unknown>): Promise<{ outputs?: Record<string, unknown>; failures?: InputFailure[] }> {
  const run = INVOKES[token];
  if (!run) throw new Error(`unknown function ${token}; this plugin serves ${INVOKE_TOKENS.join(", ")}`);
  const failures = checkFunctionInputs(doc, token, args);
  if (failures.length) return { failures };
  try {
    // Through JSON: the wire carries no undefined, and ledger records may hold optional fields.
    return { outputs: JSON.parse(JSON.stringify(await run(args))) as Record<string, unknown> };
  } catch (err) {
    if (isJitError(err) && err.field) return { failures: [{ property: err.field, reason: bareMessage(err) }] };
    throw err;
  }
}
