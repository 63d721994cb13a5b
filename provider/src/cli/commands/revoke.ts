import { Command } from "commander";
import type { CliContext } from "../context";

export function registerRevoke(program: Command, ctx: CliContext): void {
  program
    .command("revoke")
    .description("end grants now: their rules are removed and the network is back as it was")
    .argument("<grant...>", "grant ids (from `jit request` or `jit list`)")
    .addHelpText(
      "after",
      `
Examples:
  jit revoke k7geun6r2bk2
  jit list --policy web --json | jq -r '.[].id' | xargs jit revoke

The second ends every live grant of policy web. Established connections are not cut (NSGs and
security groups are stateful); new ones are refused.`,
    )
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      const out = ctx.output(cmd);
      await ctx.withAccess(cmd, async (options) => {
        const { revokeAccess } = ctx.modules.access;
        const revoked: import("../../model").Grant[] = [];
        for (const id of ids) {
          out.progress(`revoking ${id}...`);
          revoked.push(await revokeAccess(id, options));
        }
        out.result(revoked, () => revoked.map((g) => `Grant ${g.id} ${g.state} (${g.reason}).`).join("\n"));
      });
    });
}
