import { Command } from "../commander";
import type { CliContext } from "../context";
import { JitError } from "../../model/errors";
import { readPolicyFile } from "./request";

export function registerPolicy(program: Command, ctx: CliContext): void {
  const policy = program.command("policy").description("look at and check policies");
  policy
    .command("show")
    .description("print a registered policy, in pulumi-jit or Defender format")
    .argument("<name>", "the policy's name")
    .option("--defender", "print it as a Defender jitNetworkAccessPolicies resource")
    .addHelpText(
      "after",
      `
Examples:
  jit policy show web
  jit policy show web --defender > web.json    (for jit policy validate, jit request --policy-file)`,
    )
    .action(async (name: string, opts: { defender?: boolean }, cmd: Command) => {
      await ctx.withAccess(cmd, async ({ ledger }) => {
        const record = await ledger.getPolicy(name);
        if (!record) throw new JitError("NotFound", `no policy named "${name}" in the ledger`);
        // With its name (a PUT body would carry it in the URL), so the file reads back as the same policy.
        const doc = opts.defender ? ctx.modules.defender.toDefenderPolicy(record.policy, { name: record.policy.name, kind: "Basic" }) : record.policy;
        ctx.output(cmd).print(`${JSON.stringify(doc, null, 2)}\n`);
      }, { readOnly: true });
    });
  policy
    .command("validate")
    .description("check a policy file (pulumi-jit or Defender JSON) without changing anything")
    .argument("<file>", "the JSON file")
    .addHelpText(
      "after",
      `
Examples:
  jit policy validate web.json
  az security jit-policy show -g app -l westeurope -n web > web.json && jit policy validate web.json

A Defender resource needs its "name" (a GET response has it; add it to a PUT body).`,
    )
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const out = ctx.output(cmd);
      const parsed = ctx.modules.model.parsePolicy(readPolicyFile(file));
      out.result(parsed, () => `${file}: policy "${parsed.name}" is valid (${parsed.virtualMachines.length} VM(s)).`);
    });
}
