import { readFileSync } from "node:fs";
import { Command, Option } from "../commander";
import type { CliContext } from "../context";
import { formatTable, relativeTime } from "../output";
import { connectColumn } from "./connect";
import { describeDecision } from "./approve";
import { BrokerFlags, addBrokerFlags, brokerClient } from "./broker-flags";
import type { BrokerClient } from "../../broker/client";
import type { Grant, Policy } from "../../model";
import { JitError, errorMessage } from "../../model/errors";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((v) => v.trim()).filter(Boolean)];
}

export function registerRequest(program: Command, ctx: CliContext): void {
  addBrokerFlags(program.command("request"))
    .description("open ports of VMs for a while, from one address")
    .option("-p, --policy <name>", "the policy, by the name a JitPolicy resource registered it under")
    .option("--policy-file <file>", "read the policy from a JSON file (pulumi-jit or Defender format) instead of the ledger")
    .requiredOption("--vm <vm...>", "VM resource id, VM name or EC2 instance id (repeatable, or comma-separated)", collect)
    .requiredOption("--port <port...>", "port number (repeatable, or comma-separated)", collect)
    .addOption(new Option("-d, --duration <iso>", "how long, as ISO-8601 (PT30M, PT2H)").conflicts("until"))
    .option("--until <time>", "when access ends, as an ISO-8601 date-time")
    .option("-s, --source <prefix>", "the address or CIDR block to allow (default: your public address, detected)")
    .option("-j, --justification <text>", "why you need access (kept in the audit log)")
    .option("--break-glass", "emergency access without approval, for the policy's break-glass principals (needs --justification)")
    .option("--start <time>", "open access later, at this ISO-8601 date-time (the grant waits as scheduled; `jit daemon` opens it)")
    .addHelpText(
      "after",
      `
Examples:
  jit request --policy web --vm web1 --port 22 --duration PT1H --justification INC-1234
  jit request --policy web --vm web1,web2 --port 22 --source 203.0.113.7 --json
  jit request --broker https://jit.example.com --policy web --vm web1 --port 22 --source 203.0.113.7
  jit request --policy web --vm web1 --port 22 --start 2030-01-01T09:00:00Z --duration PT2H

Without --duration or --until, access lasts the policy's maximum for the port. The rule opens for
the source only; when the time is up \`jit sweep\` or \`jit daemon\` closes it (connections already
established are not cut: NSGs and security groups are stateful).

With --broker (or JIT_BROKER_URL) the broker checks your rights and opens the port with its own
identity: you need only the request role. Without it, your own credentials write the rules (the
direct role).

With --start, the request is checked and authorised now and held as a scheduled grant: nothing
opens before the start, when \`jit daemon\` (or any \`jit sweep\`) on the same ledger opens it. The
duration counts from the start. Cancel it with \`jit revoke <grant>\`.`,
    )
    .action(async (opts: RequestFlags, cmd: Command) => {
      const out = ctx.output(cmd);
      if (!opts.policy && !opts.policyFile) throw new JitError("InvalidInput", "name the policy with --policy, or give it with --policy-file", { field: "--policy" });
      const ports = opts.port.map((p) => {
        const n = Number(p);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new JitError("InvalidInput", `"${p}" is not a port number (0-65535)`, { field: "--port" });
        return n;
      });
      const { findVm } = ctx.modules.vms;
      const requestFor = (policy: Policy) => ({
        virtualMachines: opts.vm.map((vm) => ({
          id: findVm(policy, vm).id,
          ports: ports.map((number) => ({
            number,
            ...(opts.until ? { endTimeUtc: opts.until } : { duration: opts.duration ?? maxDuration(policy, findVm(policy, vm).id, number) }),
            ...(opts.source ? { allowedSourceAddressPrefix: opts.source } : {}),
          })),
        })),
        ...(opts.justification ? { justification: opts.justification } : {}),
        ...(opts.breakGlass ? { breakGlass: true } : {}),
      });
      const broker = brokerClient(opts, ctx.streams.env);
      let grant: Grant;
      if (broker) {
        if (opts.policyFile) throw new JitError("InvalidInput", "a broker grants only under the policies it holds: name one with --policy", { field: "--policy-file" });
        const policy = await brokerPolicy(broker, opts.policy as string);
        grant = await broker.client.initiate(policy.name, { ...requestFor(policy), ...(opts.start ? { startTimeUtc: opts.start } : {}) });
      } else {
        grant = await ctx.withAccess(cmd, async (options) => {
          const access = ctx.modules.access;
          const policy = await access.resolvePolicy(options.ledger, opts.policyFile ? (readPolicyFile(opts.policyFile, "--policy-file") as never) : (opts.policy as string));
          return access.requestAccess({ policy: opts.policyFile ? policy : policy.name, ...requestFor(policy) }, { ...options, ...(opts.start ? { start: opts.start } : {}) });
        });
      }
      const now = new Date();
      const rows = grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => ({ vm: ctx.modules.model.vmNameOf(vm.id), vmId: vm.id, ...p })));
      if (grant.state === "awaiting-approval") {
        out.result(grant, () => `${describeDecision(grant)} Nothing is open yet; an approver runs: jit approve ${grant.id}`);
        return;
      }
      out.result(grant, () =>
        [
          grant.state === "scheduled"
            ? `Grant ${grant.id} is scheduled: it opens ${grant.createdAt} (${relativeTime(new Date(grant.createdAt), now)}) when \`jit daemon\` runs (policy ${grant.policy}, requested by ${grant.requester}).`
            : `Grant ${grant.id} is active (policy ${grant.policy}, requested by ${grant.requester}).`,
          "",
          formatTable(rows, [
            { header: "vm", value: (r) => r.vm },
            { header: "port", value: (r) => r.number },
            { header: "protocol", value: (r) => r.protocol },
            { header: "source", value: (r) => r.sourceAddressPrefix },
            ...connectColumn(rows, (r) => ({ grant, vmId: r.vmId, port: r.number })),
            { header: "ends", value: (r) => `${r.endTimeUtc} (${relativeTime(new Date(r.endTimeUtc), now)})` },
          ]),
          "",
          `${grant.state === "scheduled" ? "Cancel" : "Revoke early"} with: jit revoke ${grant.id}${broker ? " --broker <url>" : ""}`,
        ].join("\n"),
      );
    });
}

async function brokerPolicy(broker: { url: string; client: BrokerClient }, name: string): Promise<Policy> {
  const policies = await broker.client.policies();
  const policy = policies.find((p) => p.name === name);
  if (!policy) {
    throw new JitError(
      "NotFound",
      `${broker.url} has no policy "${name}" that you may request${policies.length ? ` (you may request ${policies.map((p) => p.name).join(", ")})` : " (you may request none)"}`,
      { field: "--policy" },
    );
  }
  return policy;
}

interface RequestFlags extends BrokerFlags {
  policy?: string;
  policyFile?: string;
  vm: string[];
  port: string[];
  duration?: string;
  until?: string;
  source?: string;
  justification?: string;
  breakGlass?: boolean;
  start?: string;
}

function maxDuration(policy: Policy, vmId: string, port: number): string {
  const vm = policy.virtualMachines.find((v) => v.id === vmId);
  return vm?.ports.find((p) => p.number === port)?.maxRequestAccessDuration ?? "PT1H";
}

/** A policy file's contents: pulumi-jit's policy as is, or the policy a Defender resource holds. `field` is the option that named the file, if one did. */
export function readPolicyFile(file: string, field?: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new JitError("InvalidInput", `cannot read ${file}: ${errorMessage(err)}`, field ? { field } : {});
  }
  // A Defender resource keeps the policy in "properties"; a pulumi-jit policy has none.
  if (typeof json !== "object" || json === null || !("properties" in json)) return json;
  const { fromDefenderPolicy } = require("../../model/defender") as typeof import("../../model/defender");
  // The library's own message asks for an option the command line does not have.
  if (!("name" in json)) {
    throw new JitError("InvalidInput", `${file} is a Defender policy without a "name" (a PUT body carries it in the URL): add "name": "<policy>" next to "properties"`, field ? { field } : {});
  }
  return fromDefenderPolicy(json).policy;
}
