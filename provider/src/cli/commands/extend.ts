import type { Command } from "../commander";
import type { CliContext } from "../context";
import { relativeTime } from "../output";
import { BrokerFlags, addBrokerFlags, brokerClient } from "./broker-flags";

export function registerExtend(program: Command, ctx: CliContext): void {
  addBrokerFlags(program.command("extend"))
    .description("keep a live grant open longer, without its rule ever closing meanwhile")
    .argument("<grant>", "the grant id (from `jit request`, `jit ssh` or `jit list`)")
    .requiredOption("-d, --duration <iso>", "how much longer, as ISO-8601 (PT30M, PT1H)")
    .addHelpText(
      "after",
      `
Examples:
  jit extend k7geun6r2bk2 --duration PT1H
  jit extend k7geun6r2bk2 --duration PT30M --json | jq -r .endTimeUtc
  jit extend --broker https://jit.example.com k7geun6r2bk2 --duration PT1H

Every port of the grant ends that much later. The total stays within the policy's maximum counted
from the grant's original start: a PT3H policy lets a grant made at 09:00 run until 12:00 however
often it is extended. Only the grant's requester may extend it; the audit log records each
extension. The rules are rewritten in place (Azure: the same rule with a new expiry stamp; AWS: the
rules' expiry tags), so access never drops.`,
    )
    .action(async (id: string, opts: BrokerFlags & { duration: string }, cmd: Command) => {
      const out = ctx.output(cmd);
      const broker = brokerClient(opts, ctx.streams.env);
      const grant = broker
        ? await broker.client.extend(id, opts.duration)
        : await ctx.withAccess(cmd, (options) => ctx.modules.access.extendAccess(id, opts.duration, options));
      out.result(grant, () => `Grant ${grant.id} now ends ${grant.endTimeUtc} (${relativeTime(new Date(grant.endTimeUtc), new Date())}).`);
    });
}
