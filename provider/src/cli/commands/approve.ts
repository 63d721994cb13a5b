import { Command } from "../commander";
import type { CliContext } from "../context";
import type { Grant } from "../../model";
import { BrokerFlags, addBrokerFlags, brokerClient } from "./broker-flags";

type Decision = "approve" | "deny";

const HELP: Record<Decision, { description: string; after: string }> = {
  approve: {
    description: "approve a request that waits for approval; the last approval needed opens it at once",
    after: `
Examples:
  jit list pending
  jit approve k7geun6r2bk2
  jit approve --broker https://jit.example.com k7geun6r2bk2 --json

You must be among the policy's approvers, and not the requester. A policy may need several
distinct approvers (approvalsRequired); approving twice counts once. Access lasts as long as was
asked, counted from the last approval.`,
  },
  deny: {
    description: "deny a request that waits for approval: it ends, and nothing is opened",
    after: `
Examples:
  jit deny k7geun6r2bk2 --reason "no change window today"
  jit deny --broker https://jit.example.com k7geun6r2bk2

One deny by any approver ends the request (state denied); the reason is shown to the requester
and kept in the audit log.`,
  },
};

/** `jit approve <grant>` and `jit deny <grant>`: one vote on a held request, directly or through a broker. */
export function registerApprove(program: Command, ctx: CliContext): void {
  for (const decision of ["approve", "deny"] as const) {
    const command = addBrokerFlags(program.command(decision))
      .description(HELP[decision].description)
      .argument("<grant>", "the request's grant id (from `jit list pending`)");
    if (decision === "deny") command.option("-r, --reason <text>", "why (shown to the requester, kept in the audit log)");
    command.addHelpText("after", HELP[decision].after).action(async (id: string, opts: BrokerFlags & { reason?: string }, cmd: Command) => {
      const out = ctx.output(cmd);
      const broker = brokerClient(opts, ctx.streams.env);
      let grant: Grant;
      if (broker) grant = await broker.client.decide(id, decision, opts.reason);
      else {
        grant = await ctx.withAccess(cmd, (options) =>
          decision === "approve" ? ctx.modules.access.approveAccess(id, options) : ctx.modules.access.denyAccess(id, { ...options, ...(opts.reason ? { reason: opts.reason } : {}) }),
        );
      }
      out.result(grant, () => describeDecision(grant));
    });
  }
}

export function describeDecision(grant: Grant): string {
  const approval = grant.approval;
  const approvals = new Set((approval?.votes ?? []).filter((v) => v.decision === "approve").map((v) => v.approver.toLowerCase())).size;
  switch (grant.state) {
    case "awaiting-approval":
      return `Grant ${grant.id} has ${approvals} of ${approval?.required} approval(s); it waits for more until ${approval?.expiresAt}.`;
    case "denied":
      return `Grant ${grant.id} is denied; nothing was opened.`;
    case "active":
      return `Grant ${grant.id} is approved and active until ${grant.endTimeUtc}.`;
    default:
      return `Grant ${grant.id} is ${grant.state}${grant.reason ? ` (${grant.reason})` : ""}.`;
  }
}
