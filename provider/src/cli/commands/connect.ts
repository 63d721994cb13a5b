import { constants } from "node:os";
import type { Command } from "../commander";
import { modules, type CliContext } from "../context";
import type { Column } from "../output";
import type { Connection, Grant, Policy } from "../../model";
import { JitError, errorMessage } from "../../model/errors";
import { BrokerFlags, addBrokerFlags, brokerClient } from "./broker-flags";

/**
 * The "connect to" column of grant tables: for a port that goes through a classic Azure Firewall,
 * the firewall's public address and the port mapped there (`198.51.100.10:50022`, Defender's
 * `mappedPort`). Only tables where some row has one get the column, so output for grants that
 * reach VMs directly is as it always was.
 */
export function connectColumn<T>(rows: readonly T[], of: (row: T) => { grant: Grant; vmId: string; port: number }): Column<T>[] {
  const { firewallMapping } = modules.model;
  const endpoint = (row: T) => {
    const { grant, vmId, port } = of(row);
    const mapping = firewallMapping(grant, vmId, port);
    return mapping ? `${mapping.address ?? "?"}:${mapping.mappedPort}` : "";
  };
  return rows.some((r) => endpoint(r) !== "") ? [{ header: "connect to", value: endpoint }] : [];
}

/** The flags `jit ssh`, `jit rdp` and `jit connect` share. */
export interface ConnectFlags extends BrokerFlags {
  policy?: string;
  port?: string;
  duration?: string;
  source?: string;
  justification?: string;
  wait?: string;
}

/** Adds the shared flags; `portHelp` says which port is the default. */
function addConnectFlags(command: Command, portHelp: string): Command {
  return addBrokerFlags(command)
    .argument("<vm>", "VM name, VM resource id, or EC2 instance id")
    .option("-p, --policy <name>", "the policy that covers the VM (default: the one policy in the ledger that does)")
    .option("--port <port>", portHelp)
    .option("-d, --duration <iso>", "how long a new grant lasts, as ISO-8601 (default PT1H, or the policy's maximum if shorter)")
    .option("-s, --source <prefix>", "the address or CIDR block you connect from (default: your public address, detected)")
    .option("-j, --justification <text>", "why you need access (kept in the audit log)")
    .option("--wait <iso>", "how long to wait for the rule to take effect (default PT2M)");
}

/** The endpoint a command resolved, as `--json` prints it. */
function endpointJson(c: Connection) {
  return { grant: c.grant.id, reused: c.reused, vm: c.vmId, port: c.port, host: c.host, endpointPort: c.endpointPort, endTimeUtc: c.grant.endTimeUtc };
}

/**
 * The policy covering the VM and port: the one named, or the only one in the ledger that covers
 * them. The port is the one asked for, else `preferred` when the policy has it for the VM, else the
 * VM's only port in the policy.
 */
function choose(policies: readonly Policy[], typed: string, flags: ConnectFlags, preferred: number | undefined): { policy: Policy; vmId: string; port: number } {
  const { findVm } = modules.vms;
  const asked = flags.port === undefined ? undefined : Number(flags.port);
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1 && asked <= 65535)) throw new JitError("InvalidInput", `"${flags.port}" is not a port number (1-65535)`, { field: "--port" });
  const candidates = policies.flatMap((policy) => {
    if (flags.policy !== undefined && policy.name !== flags.policy) return [];
    let vm;
    try {
      vm = findVm(policy, typed);
    } catch (err) {
      if (flags.policy !== undefined) throw err;
      return [];
    }
    const ports = vm.ports.map((p) => p.number);
    const port = asked ?? (preferred !== undefined && ports.includes(preferred) ? preferred : ports.length === 1 ? ports[0] : undefined);
    if (port === undefined) {
      throw new JitError("InvalidInput", `policy "${policy.name}" has ports ${ports.join(", ")} for ${typed}${preferred === undefined ? "" : `, not ${preferred}`}: choose one with --port`, { field: "--port" });
    }
    if (!ports.includes(port)) {
      if (flags.policy !== undefined) throw new JitError("RequestNotAllowed", `policy "${policy.name}" does not cover port ${port} of ${typed} (it has ${ports.join(", ")})`, { field: "--port" });
      return [];
    }
    return [{ policy, vmId: vm.id, port }];
  });
  if (flags.policy !== undefined && candidates.length === 0) throw new JitError("NotFound", `no policy "${flags.policy}"`, { field: "--policy" });
  if (candidates.length === 0) throw new JitError("NotFound", `no policy covers ${asked === undefined ? "" : `port ${asked} of `}VM "${typed}"`, { field: "vm" });
  if (candidates.length > 1) {
    throw new JitError("InvalidInput", `policies ${candidates.map((c) => c.policy.name).join(", ")} all cover ${typed}: choose one with --policy`, { field: "--policy" });
  }
  return candidates[0];
}

function durationFor(policy: Policy, vmId: string, port: number, asked: string | undefined): string {
  if (asked !== undefined) return asked;
  const { parseDuration } = modules.model;
  const max = policy.virtualMachines.find((v) => v.id === vmId)?.ports.find((p) => p.number === port)?.maxRequestAccessDuration;
  return max !== undefined && parseDuration(max) < 3_600_000 ? max : "PT1H";
}

/**
 * Resolves the VM and port, opens (or reuses) a grant for the caller's address, and waits until the
 * rule is in effect; `use` then gets the connection. Direct mode only reads and writes with the
 * caller's credentials; through a broker, the broker does both.
 */
async function withConnection<T>(ctx: CliContext, cmd: Command, typed: string, flags: ConnectFlags, preferred: number | undefined, use: (c: Connection) => Promise<T>): Promise<T> {
  const broker = brokerClient(flags, ctx.streams.env);
  const out = ctx.output(cmd);
  if (broker) {
    const chosen = choose(await broker.client.policies(), typed, flags, preferred);
    out.progress(`asking ${broker.url} for port ${chosen.port} of ${typed}; it answers once the rule is in effect...`);
    const connection = await broker.client.connect(chosen.policy.name, {
      vm: chosen.vmId,
      port: chosen.port,
      duration: durationFor(chosen.policy, chosen.vmId, chosen.port, flags.duration),
      ...(flags.source ? { source: flags.source } : {}),
      ...(flags.justification ? { justification: flags.justification } : {}),
      ...(flags.wait ? { wait: flags.wait } : {}),
    });
    out.progress(`${connection.reused ? "using" : "opened"} grant ${connection.grant.id}: connect to ${endpointOf(connection)} (${connection.detail})`);
    return use(connection);
  }
  const wait = flags.wait === undefined ? {} : { waitMs: ctx.modules.model.parseDuration(flags.wait, "--wait") };
  return ctx.withAccess(cmd, async (options) => {
    const access = ctx.modules.access;
    const chosen = choose((await options.ledger.listPolicies()).map((r) => r.policy), typed, flags, preferred);
    const connection = await access.connect(
      {
        policy: chosen.policy.name,
        vmId: chosen.vmId,
        port: chosen.port,
        duration: durationFor(chosen.policy, chosen.vmId, chosen.port, flags.duration),
        ...(flags.justification ? { justification: flags.justification } : {}),
      },
      { ...options, ...wait, ...(flags.source ? { sourceAddress: flags.source } : {}) },
    );
    return use(connection);
  });
}

/** Ends a grant this command opened; one it reused was opened for something else and is left alone. */
async function revokeOpened(ctx: CliContext, cmd: Command, flags: ConnectFlags, connection: Connection): Promise<void> {
  const out = ctx.output(cmd);
  if (connection.reused) {
    out.warn(`grant ${connection.grant.id} was open before this session, so it stays open until ${connection.grant.endTimeUtc}; end it with: jit revoke ${connection.grant.id}`);
    return;
  }
  out.progress(`ending grant ${connection.grant.id}...`);
  const broker = brokerClient(flags, ctx.streams.env);
  if (broker) await broker.client.revoke(connection.grant.id);
  else await ctx.withAccess(cmd, (options) => ctx.modules.access.revokeAccess(connection.grant.id, options));
  out.progress(`grant ${connection.grant.id} ended: port ${connection.port} is closed again`);
}

/**
 * Runs a client program to the end with the terminal as its own, and resolves to its exit code.
 * Ctrl-C belongs to the client while it runs (ssh passes it to the remote shell), so this process
 * ignores SIGINT meanwhile instead of dying and leaving the grant behind.
 */
function runClient(ctx: CliContext, program: string, args: string[]): Promise<number> {
  // Loaded here, not at the top: child_process pulls in net and streams, a cost every `jit --help` would pay.
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const ignore = () => undefined;
  process.on("SIGINT", ignore);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(program, args, { stdio: "inherit", env: ctx.streams.env });
    child.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "ENOENT" ? new JitError("NotFound", `there is no ${program} on PATH; install it, or use \`jit connect\` and a client of your own`, { field: program }) : err);
    });
    // Killed by a signal: the shell's convention, 128 + its number.
    child.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  }).finally(() => process.off("SIGINT", ignore));
}

/** Refuses before any access is opened when the client program is not on PATH. */
function requireOnPath(ctx: CliContext, program: string): void {
  const { accessSync, constants: fs } = require("node:fs") as typeof import("node:fs");
  const { delimiter, join } = require("node:path") as typeof import("node:path");
  const names = process.platform === "win32" ? [`${program}.exe`, program] : [program];
  const dirs = (ctx.streams.env.PATH ?? "").split(delimiter).filter(Boolean);
  const found = dirs.some((dir) =>
    names.some((name) => {
      try {
        accessSync(join(dir, name), fs.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
  if (!found) throw new JitError("NotFound", `there is no ${program} on PATH; install it, or use \`jit connect\` and a client of your own`, { field: program });
}

export function registerSsh(program: Command, ctx: CliContext): void {
  addConnectFlags(program.command("ssh"), "the VM's SSH port (default 22, or the VM's only port in the policy)")
    .description("open SSH to a VM for your address, wait until the rule is in effect, and run ssh")
    .argument("[ssh-args...]", "arguments for ssh, after --")
    .option("-u, --user <name>", "the user to sign in as (ssh's user@host)")
    .option("-i, --identity <file>", "the private key file (ssh -i)")
    .option("--revoke-on-exit", "end the grant when ssh exits (only a grant this command opened)")
    .addHelpText(
      "after",
      `
Examples:
  jit ssh web1
  jit ssh web1 --user azureuser --identity ~/.ssh/id_ed25519 --revoke-on-exit
  jit ssh i-0abc123def4567890 --user ec2-user -- -L 8080:localhost:80 uptime
  jit ssh --broker https://jit.example.com web1 --justification INC-1234

A live grant of yours for the VM, port and address is used as it is; otherwise one is requested
(PT1H, or the policy's maximum if shorter). jit then reads the network until every rule on the way
admits you, and runs the system ssh to the VM's public address (or to the Azure Firewall's address
and the port mapped there, for a VM behind one). Exits with ssh's exit status.`,
    )
    .action(async (vm: string, sshArgs: string[], flags: ConnectFlags & { user?: string; identity?: string; revokeOnExit?: boolean }, cmd: Command) => {
      requireOnPath(ctx, "ssh");
      return withConnection(ctx, cmd, vm, flags, 22, async (c) => {
        const args = [...(flags.identity ? ["-i", flags.identity] : []), "-p", String(c.endpointPort), flags.user ? `${flags.user}@${c.host}` : c.host, ...sshArgs];
        let code: number;
        try {
          code = await runClient(ctx, "ssh", args);
        } finally {
          if (flags.revokeOnExit) await revokeOpened(ctx, cmd, flags, c);
        }
        return code;
      });
    });
}

export function registerRdp(program: Command, ctx: CliContext): void {
  addConnectFlags(program.command("rdp"), "the VM's RDP port (default 3389, or the VM's only port in the policy)")
    .description("open RDP to a VM for your address, wait until the rule is in effect, and write (and open) an .rdp file")
    .option("-u, --user <name>", "the user name to put in the .rdp file")
    .option("-o, --out <file>", "where to write the .rdp file (default: <vm>.rdp in the current directory)")
    .option("--no-open", "only write the file; do not hand it to the platform's RDP client")
    .addHelpText(
      "after",
      `
Examples:
  jit rdp win1
  jit rdp win1 --user azureadmin --out ~/win1.rdp --no-open
  jit rdp win1 --json

The file names the VM's public address and port (or the Azure Firewall's address and the port
mapped there). It is opened with the platform's handler (open on macOS, start on Windows,
xdg-open elsewhere) unless --no-open is given.`,
    )
    .action(async (vm: string, flags: ConnectFlags & { user?: string; out?: string; open: boolean }, cmd: Command) =>
      withConnection(ctx, cmd, vm, flags, 3389, async (c) => {
        const { writeFileSync } = await import("node:fs");
        const { resolve } = await import("node:path");
        const file = resolve(flags.out ?? `${ctx.modules.model.vmNameOf(c.vmId)}.rdp`);
        writeFileSync(file, rdpFile(c.host, c.endpointPort, flags.user), { mode: 0o600 });
        const out = ctx.output(cmd);
        out.result({ ...endpointJson(c), file }, () => `Wrote ${file} for ${endpointOf(c)} (grant ${c.grant.id}, until ${c.grant.endTimeUtc}).`);
        if (!flags.open) return;
        const [opener, ...openArgs] = process.platform === "darwin" ? ["open"] : process.platform === "win32" ? ["cmd", "/c", "start", '""'] : ["xdg-open"];
        try {
          const code = await runClient(ctx, opener, [...openArgs, file]);
          if (code !== 0) out.warn(`${opener} exited with ${code}; open ${file} with your RDP client`);
        } catch (err) {
          out.warn(`${errorMessage(err)}; open ${file} with your RDP client`);
        }
      }),
    );
}

export function registerConnect(program: Command, ctx: CliContext): void {
  addConnectFlags(program.command("connect"), "the VM's port (default: the VM's only port in the policy)")
    .description("open a port of a VM for your address, wait until the rule is in effect, and print where to connect")
    .addHelpText(
      "after",
      `
Examples:
  jit connect db1 --port 5432
  jit connect web1 --port 22 --json | jq -r '"\\(.host) \\(.endpointPort)"'
  psql "host=$(jit connect db1 --port 5432 --json | jq -r .host) port=5432"

Prints host:port for any client: the VM's public address, or the Azure Firewall's address and the
port mapped there for a VM behind one. A live grant of yours is reused.`,
    )
    .action(async (vm: string, flags: ConnectFlags, cmd: Command) =>
      withConnection(ctx, cmd, vm, flags, undefined, async (c) => {
        ctx.output(cmd).result(endpointJson(c), () => endpointOf(c));
      }),
    );
}

function endpointOf(c: Connection): string {
  return modules.access.endpointText(c.host, c.endpointPort);
}

/** An .rdp file as Remote Desktop clients read it (mstsc, Microsoft Remote Desktop, FreeRDP, Remmina): one `name:type:value` per line, CRLF. */
export function rdpFile(host: string, port: number, user: string | undefined): string {
  const address = host.includes(":") ? `[${host}]` : host;
  const lines = [`full address:s:${address}:${port}`, "prompt for credentials:i:1", "administrative session:i:0", "screen mode id:i:2", ...(user ? [`username:s:${user}`] : [])];
  return `${lines.join("\r\n")}\r\n`;
}


