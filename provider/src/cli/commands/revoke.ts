import { Command } from "../commander";
import type { CliContext } from "../context";
import { BrokerFlags, addBrokerFlags, brokerClient } from "./broker-flags";

export function registerRevoke(program: Command, ctx: CliContext): void {
  addBrokerFlags(program.command("revoke"))
    .description("end grants now: their rules are removed and the network is back as it was")
    .argument("<grant...>", "grant ids (from `jit request` or `jit list`)")
    .addHelpText(
      "after",
      `
Examples:
  jit revoke k7geun6r2bk2
  jit list --policy web --json | jq -r '.[].id' | xargs jit revoke
  jit revoke --broker https://jit.example.com k7geun6r2bk2

The second ends every live grant of policy web. Established connections are not cut (NSGs and
security groups are stateful); new ones are refused.`,
    )
    .action(async (ids: string[], opts: BrokerFlags, cmd: Command) => {
      const out = ctx.output(cmd);
      const broker = brokerClient(opts, ctx.streams.env);
      const revoked: import("../../model").Grant[] = [];
      const each = async (revoke: (id: string) => Promise<import("../../model").Grant>) => {
        for (const id of ids) {
          out.progress(`revoking ${id}...`);
          revoked.push(await revoke(id));
        }
      };
      if (broker) await each((id) => broker.client.revoke(id));
      else {
        await ctx.withAccess(cmd, async (options) => {
          const { revokeAccess } = ctx.modules.access;
          await each((id) => revokeAccess(id, options));
        });
      }
      out.result(revoked, () => revoked.map((g) => `Grant ${g.id} ${g.state} (${g.reason}).`).join("\n"));
    });
}
