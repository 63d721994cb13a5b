import { Argument, Command, InvalidArgumentError } from "../commander";
import { CliContext, modules } from "../context";
import { formatTable, relativeTime } from "../output";
import { connectColumn } from "./connect";
import type { AuditEvent, Grant, Policy } from "../../model";
import { JitError } from "../../model/errors";
import { BrokerFlags, addBrokerFlags, brokerClient } from "./broker-flags";

export function registerList(program: Command, ctx: CliContext): void {
  addBrokerFlags(program.command("list"))
    .description("show policies, active grants, or the history of grants and audit events")
    .addArgument(new Argument("[what]", "what to list").choices(["grants", "pending", "policies", "history", "audit"]).default("grants"))
    .option("--policy <name>", "only this policy")
    .option("--vm <id>", "only grants for this VM (id, instance id or ARN)")
    .option("--limit <n>", "at most this many rows", positiveInteger, 100)
    .addHelpText(
      "after",
      `
Examples:
  jit list
  jit list policies
  jit list history --policy web --limit 20
  jit list audit --json
  jit list pending

\`grants\` shows live grants (requests awaiting approval among them); \`pending\` the requests you
may approve or deny (\`jit approve\`, \`jit deny\`); \`history\` shows ended ones too; \`audit\` shows the audit log, newest
first. With --broker, \`grants\` and \`history\` show your own grants (every grant for the broker's
readers), \`policies\` the policies you may request, and \`audit\` is for readers.`,
    )
    .action(async (what: string, opts: { policy?: string; vm?: string; limit: number } & BrokerFlags, cmd: Command) => {
      const out = ctx.output(cmd);
      const now = new Date();
      const broker = brokerClient(opts, ctx.streams.env);
      const found = broker
        ? await fromBroker(broker.client, what, opts)
        : what === "pending"
          ? await ctx.withAccess(cmd, (options) => ctx.modules.access.pendingApprovals(options), { readOnly: true })
          : await ctx.withAccess(cmd, ({ ledger }) => fromLedger(ledger, what, opts), { readOnly: true });
      if (what === "policies") {
        const records = found as { policy: Policy }[];
        out.result(records, () =>
          records.length === 0
            ? "No policies registered. Deploy a JitPolicy resource (see README)."
            : formatTable(
                records.flatMap((r) => r.policy.virtualMachines.map((vm) => ({ r, vm }))),
                [
                  { header: "policy", value: ({ r }) => r.policy.name },
                  { header: "vm", value: ({ vm }) => ctx.modules.model.vmNameOf(vm.id) },
                  { header: "ports", value: ({ vm }) => vm.ports.map((p) => `${p.number}/${p.protocol} max ${p.maxRequestAccessDuration}`).join(", ") },
                  { header: "sources", value: ({ vm }) => [...new Set(vm.ports.flatMap((p) => p.allowedSourceAddressPrefixes ?? [p.allowedSourceAddressPrefix ?? "*"]))].join(", ") },
                ],
              ),
        );
        return;
      }
      if (what === "audit") {
        const events = found as AuditEvent[];
        out.result(events, () =>
          events.length === 0
            ? "No audit events."
            : formatTable(events, [
                { header: "time", value: (e) => e.time },
                { header: "actor", value: (e) => e.actor },
                { header: "action", value: (e) => e.action },
                { header: "target", value: (e) => [e.target.policy, e.target.grant].filter(Boolean).join("/") },
                { header: "outcome", value: (e) => e.outcome },
                { header: "message", value: (e) => e.message ?? e.justification ?? "" },
              ]),
        );
        return;
      }
      const grants = found as Grant[];
      if (what === "pending") {
        out.result(grants, () => (grants.length === 0 ? "Nothing waits for your approval." : pendingTable(grants, now)));
        return;
      }
      out.result(grants, () => (grants.length === 0 ? (what === "grants" ? "No live grants." : "No grants.") : grantTable(grants, now)));
    });
}

type ListFlags = { policy?: string; vm?: string; limit: number };

async function fromLedger(ledger: import("../../ledger").Ledger, what: string, opts: ListFlags): Promise<unknown[]> {
  if (what === "policies") return (await ledger.listPolicies()).filter((r) => !opts.policy || r.policy.name === opts.policy);
  if (what === "audit") return ledger.listAudit({ ...(opts.policy ? { policy: opts.policy } : {}), limit: opts.limit });
  return ledger.listGrants({
    ...(what === "grants" ? { state: [...modules.model.LIVE_STATES] } : {}),
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.vm ? { vm: opts.vm } : {}),
    limit: opts.limit,
  });
}

/** The same lists from a broker: policies in the ledger's record shape, so one table prints both. */
async function fromBroker(client: import("../../broker/client").BrokerClient, what: string, opts: ListFlags): Promise<unknown[]> {
  if (opts.vm) throw new JitError("InvalidInput", "--vm is not available through a broker; use --policy", { field: "--vm" });
  if (what === "policies") return (await client.policies()).filter((p) => !opts.policy || p.name === opts.policy).map(({ cloud: _cloud, ...policy }) => ({ policy }));
  if (what === "audit") return client.audit({ ...(opts.policy ? { policy: opts.policy } : {}), limit: opts.limit });
  if (what === "pending") return client.approvals();
  return client.grants({ state: what === "grants" ? "live" : "all", ...(opts.policy ? { policy: opts.policy } : {}), limit: opts.limit });
}

/** Commander's parser for `--limit`: a bad value is a usage error that names what was typed. */
function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive whole number.`);
  return n;
}

export function grantTable(grants: Grant[], now: Date): string {
  const rows = grants.flatMap((g) => g.virtualMachines.flatMap((vm) => vm.ports.map((p) => ({ g, vm, p }))));
  return formatTable(
    rows,
    [
      { header: "grant", value: ({ g }) => g.id },
      { header: "policy", value: ({ g }) => g.policy },
      { header: "state", value: ({ g }) => (g.reason && g.state !== "active" ? `${g.state} (${g.reason})` : g.state) },
      { header: "vm", value: ({ vm }) => modules.model.vmNameOf(vm.id) },
      { header: "port", value: ({ p }) => `${p.number}/${p.protocol}` },
      { header: "source", value: ({ p }) => p.sourceAddressPrefix },
      ...connectColumn(rows, ({ g, vm, p }) => ({ grant: g, vmId: vm.id, port: p.number })),
      { header: "requester", value: ({ g }) => g.requester },
      { header: "ends", value: ({ p }) => `${p.endTimeUtc} (${relativeTime(new Date(p.endTimeUtc), now)})` },
    ],
  );
}

/** Requests waiting for the caller's decision: who asks for what, why, how many approvals it has, until when. */
export function pendingTable(grants: Grant[], now: Date): string {
  return formatTable(grants, [
    { header: "grant", value: (g) => g.id },
    { header: "policy", value: (g) => g.policy },
    { header: "requester", value: (g) => g.requester },
    { header: "access", value: (g) => g.virtualMachines.flatMap((vm) => vm.ports.map((p) => `${modules.model.vmNameOf(vm.id)}:${p.number} from ${p.sourceAddressPrefix}`)).join(", ") },
    { header: "justification", value: (g) => g.justification ?? "" },
    { header: "approvals", value: (g) => `${new Set((g.approval?.votes ?? []).map((v) => v.approver.toLowerCase())).size}/${g.approval?.required}` },
    { header: "expires", value: (g) => (g.approval ? `${g.approval.expiresAt} (${relativeTime(new Date(g.approval.expiresAt), now)})` : "") },
  ]);
}
