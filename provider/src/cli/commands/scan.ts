import { Command, Option } from "../commander";
import type { CliContext } from "../context";
import { formatTable } from "../output";
import { JitError } from "../../model/errors";
import type { ScanReport, ScanResult, Verdict } from "../../scan";

interface ScanFlags {
  subscription?: string;
  resourceGroup?: string;
  region?: string;
  ports?: number[];
  broadPrefix?: number;
  broadPrefixV6?: number;
  emit?: "policy" | "defender";
}

function integer(field: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new JitError("InvalidInput", `"${value}" is not a whole number`, { field });
    return n;
  };
}

function portList(value: string, previous: number[] = []): number[] {
  return [...previous, ...value.split(",").filter((v) => v.trim() !== "").map(integer("--ports"))];
}

const HEADINGS: Record<Verdict, string> = { Unhealthy: "UNHEALTHY", Healthy: "HEALTHY", NotApplicable: "NOT APPLICABLE" };

export function registerScan(program: Command, ctx: CliContext): void {
  program
    .command("scan")
    .description("find the VMs whose management ports are open to broad sources without JIT (Healthy / Unhealthy / Not applicable)")
    .option("--subscription <id>", "scan the VMs of this Azure subscription")
    .option("--resource-group <name>", "only this resource group of the subscription")
    .option("--region <name>", "scan the EC2 instances of this AWS region")
    .option("--ports <ports>", "the management ports (default 22,3389,5985,5986)", portList)
    .option("--broad-prefix <bits>", "an IPv4 source of at most this many prefix bits reaching public space counts as broad (default 16)", integer("--broad-prefix"))
    .option("--broad-prefix-v6 <bits>", "the same for IPv6 sources (default 32)", integer("--broad-prefix-v6"))
    .addOption(new Option("--emit <what>", "instead of the report, print JIT policies for the unhealthy VMs: a Pulumi program or Defender JSON").choices(["policy", "defender"]))
    .addHelpText(
      "after",
      `
Examples:
  jit scan --subscription 00000000-0000-0000-0000-000000000000
  jit scan --subscription <id> --resource-group app --ports 22,3389 --json
  jit scan --region eu-west-1 --emit policy > jit.ts

Unhealthy: a management port is open to *, Internet, 0.0.0.0/0 or another broad source, judged with the
same NSG and security group evaluators the policies are planned with; the reason names the rule (NSG,
name, priority / group, rule id), and a JIT deny rule that a user rule shadows. Healthy: covered by a
JIT policy in the ledger, or no management port open to a broad source. Not applicable: no NSG (or
classic Azure Firewall) on the VM's path, no security group on the instance. Reads only; changes nothing.`,
    )
    .action(async (opts: ScanFlags, cmd: Command) => {
      if (!opts.subscription && !opts.region) {
        throw new JitError("InvalidInput", "name what to scan: --subscription (Azure) and/or --region (AWS)", { field: "--subscription" });
      }
      if (opts.resourceGroup && !opts.subscription) throw new JitError("InvalidInput", "--resource-group needs --subscription", { field: "--resource-group" });
      const out = ctx.output(cmd);
      await ctx.withAccess(cmd, async (options) => {
        const scanning = ctx.modules.scan;
        const report = await scanning.scan({
          ...options,
          ...(opts.subscription ? { azure: { subscriptionId: opts.subscription, ...(opts.resourceGroup ? { resourceGroup: opts.resourceGroup } : {}) } } : {}),
          ...(opts.region ? { aws: { region: opts.region } } : {}),
          ...(opts.ports ? { ports: opts.ports } : {}),
          broadPrefix: { ...(opts.broadPrefix === undefined ? {} : { v4: opts.broadPrefix }), ...(opts.broadPrefixV6 === undefined ? {} : { v6: opts.broadPrefixV6 }) },
        });
        if (opts.emit === "policy") {
          out.print(scanning.pulumiProgram(scanning.proposePolicies(report.results)));
        } else if (opts.emit === "defender") {
          out.print(`${JSON.stringify(scanning.defenderPolicies(scanning.proposePolicies(report.results)), null, 2)}\n`);
        } else {
          out.result(report, () => describeScan(report));
        }
      });
    });
}

/** The report for people: a table per verdict, worst first, and the totals. */
export function describeScan(report: ScanReport): string {
  const sections = (["Unhealthy", "Healthy", "NotApplicable"] as const).flatMap((verdict) => {
    const results = report.results.filter((r) => r.verdict === verdict);
    if (results.length === 0) return [];
    const table =
      verdict === "Unhealthy"
        ? formatTable(
            results.flatMap((r) => (r.exposures.length ? r.exposures.map((e) => ({ r, port: String(e.port), source: e.source, reason: e.reason })) : [{ r, port: "", source: "", reason: r.reason }])),
            [
              { header: "vm", value: (x) => x.r.name },
              { header: "where", value: (x) => where(x.r) },
              { header: "port", value: (x) => x.port },
              { header: "source", value: (x) => x.source },
              { header: "reason", value: (x) => x.reason },
            ],
          )
        : formatTable(results, [
            { header: "vm", value: (r) => r.name },
            { header: "where", value: where },
            { header: "reason", value: (r) => r.reason },
          ]);
    return [`${HEADINGS[verdict]} (${results.length})\n${table}`];
  });
  const noted = report.results.flatMap((r) => (r.notes ?? []).map((note) => ({ r, note })));
  if (noted.length) sections.push(`Notes (${noted.length})\n${formatTable(noted, [{ header: "vm", value: (x) => x.r.name }, { header: "where", value: (x) => where(x.r) }, { header: "note", value: (x) => x.note }])}`);
  const { Unhealthy, Healthy, NotApplicable } = report.counts;
  const total = `${Unhealthy} unhealthy, ${Healthy} healthy, ${NotApplicable} not applicable.`;
  const hint = Unhealthy > 0 ? " Add --emit policy for a Pulumi program that puts the unhealthy ones under JIT." : "";
  return [...sections, `${total}${hint}`].join("\n\n");
}

function where(r: ScanResult): string {
  return `${r.cloud}/${r.group}`;
}
