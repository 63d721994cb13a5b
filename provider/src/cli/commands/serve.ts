import { readFileSync } from "node:fs";
import { Command } from "../commander";
import type { CliContext } from "../context";
import { JitError } from "../../model/errors";

interface ServeFlags {
  listen: string;
  azureTenant?: string[];
  azureAuthority: string;
  azureAudience?: string[];
  awsStsEndpoint?: string[];
  brokerId?: string;
  reader?: string[];
  admin?: string[];
  caFile?: string;
  devIdentity?: string;
  rate: string;
  console: boolean;
  consoleUrl?: string;
  consoleClientId?: string;
  config?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((v) => v.trim()).filter(Boolean)];
}

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command("serve")
    .description("run the access broker: requesters ask over HTTP, the broker's own identity writes the rules")
    .option("--listen <host:port>", "where to listen", "127.0.0.1:8080")
    .option("--azure-tenant <guid...>", "accept Entra ID tokens from these tenants (repeatable, or comma-separated)", collect)
    .option("--azure-authority <url>", "the Entra ID authority the tenants' keys come from", "https://login.microsoftonline.com")
    .option("--azure-audience <aud...>", "accepted token audiences (default: Azure Resource Manager's)", collect)
    .option("--aws-sts-endpoint <url...>", "accept signed STS requests for these endpoints, e.g. https://sts.eu-west-1.amazonaws.com/", collect)
    .option("--broker-id <id>", "this broker's id, which AWS callers sign into x-jit-broker-id (required with --aws-sts-endpoint)")
    .option("--reader <principal...>", "who may see every grant and the audit log (object ids, UPNs, ARN patterns)", collect)
    .option("--admin <principal...>", "who may also revoke anybody's grant", collect)
    .option("--ca-file <pem>", "an extra CA certificate for the authority and STS endpoints (private or local endpoints)")
    .option("--dev-identity <name>", "LOCAL DEVELOPMENT ONLY: trust every caller as <name>, without proof (loopback addresses only)")
    .option("--rate <per-minute>", "requests per minute per caller", "120")
    .option("--console-url <url>", "the web console's address as browsers reach it (https://jit.example.com/console); approve/deny links in notifications lead there; without it the console answers loopback addresses only")
    .option("--console-client-id <id>", "the Entra ID app (client) id the console signs in with (authorization code with PKCE; the first --azure-tenant); a client secret, if the app needs one, from JIT_CONSOLE_CLIENT_SECRET")
    .option("--no-console", "serve the API only, without the web console")
    .option("--config <file>", "read these settings, notification sinks, consoleUrl and approval defaults from a YAML or JSON file; flags given as well win")
    .addHelpText(
      "after",
      `
Examples:
  jit serve --listen 0.0.0.0:8080 --azure-tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 --admin ops@contoso.com
  jit serve --aws-sts-endpoint https://sts.eu-west-1.amazonaws.com/ --broker-id jit.example.com --reader 'arn:aws:iam::123456789012:role/Audit'
  jit serve --dev-identity ana@example.com
  jit serve --config broker.yaml

The broker runs with its own cloud credentials (DefaultAzureCredential, the AWS default chain), which
need the broker role (\`jit role … --kind broker\`); requesters need only the request role. Put TLS in
front of it (a reverse proxy or load balancer): tokens and signed requests travel in headers. It
logs one JSON line per request on stdout (caller, route, outcome, latency; never a credential).
Routes: GET /v1/openapi.json describes them.

The web console is at /console/ (sign in with --console-client-id, an AWS signed identity proof, or
--dev-identity); behind a proxy give --console-url, the address browsers use (https://jit.example.com/console).

The config file (see README, "Running it for a team") holds listen, azure {tenants, authority,
audiences}, aws {stsEndpoints, brokerId}, readers, admins, caFile, devIdentity, rate, consoleUrl,
approvals {defaultTimeout} and notifications {sinks: slack | teams | webhook}; secrets may be
written { env: NAME }. A mistake names its key path (notifications.sinks[0].url).`,
    )
    .action(async (flags: ServeFlags, cmd: Command) => {
      const out = ctx.output(cmd);
      const opts = withConfig(flags, cmd);
      const { host, port } = parseListen(opts.listen);
      const rate = Number(opts.rate);
      if (!Number.isInteger(rate) || rate < 1) throw new JitError("InvalidInput", `"${opts.rate}" is not a positive whole number`, { field: "--rate" });
      if (!opts.azureTenant?.length && !opts.awsStsEndpoint?.length && opts.devIdentity === undefined) {
        throw new JitError("InvalidInput", "say whom to accept: --azure-tenant, --aws-sts-endpoint (with --broker-id), or --dev-identity for local development", { field: "--azure-tenant" });
      }
      if (opts.awsStsEndpoint?.length && !opts.brokerId) throw new JitError("InvalidInput", "AWS callers sign for a broker id: give --broker-id", { field: "--broker-id" });
      if (opts.consoleClientId !== undefined && !opts.azureTenant?.length) throw new JitError("InvalidInput", "the console's Azure sign-in needs --azure-tenant", { field: "--console-client-id" });
      const broker = await import("../../broker");
      const ca = opts.caFile ? readFileSync(opts.caFile, "utf8") : undefined;
      const fetch = broker.outbound(ca ? { ca } : {});
      if (opts.devIdentity !== undefined) {
        process.stderr.write(
          `\n  WARNING: --dev-identity: every request is trusted as ${JSON.stringify(opts.devIdentity)}, WITHOUT ANY PROOF.\n  For local development only; refused on any address but loopback.\n\n`,
        );
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await ctx.withAccess(cmd, async (access) => {
          const running = await broker.startBroker(
            {
              access,
              auth: {
                ...(opts.azureTenant?.length
                  ? { azure: new broker.AzureTokenVerifier({ tenants: opts.azureTenant, authorityHost: opts.azureAuthority, ...(opts.azureAudience ? { audiences: opts.azureAudience } : {}), fetch }) }
                  : {}),
                ...(opts.awsStsEndpoint?.length ? { aws: new broker.AwsStsVerifier({ brokerId: opts.brokerId as string, stsEndpoints: opts.awsStsEndpoint, fetch }) } : {}),
                ...(opts.devIdentity !== undefined ? { devIdentity: opts.devIdentity } : {}),
              },
              readers: opts.reader ?? [],
              admins: opts.admin ?? [],
              limits: { perMinute: rate, burst: Math.max(1, Math.ceil(rate / 4)) },
              console: opts.console && {
                ...(opts.consoleUrl !== undefined ? { publicUrl: opts.consoleUrl } : {}),
                ...(opts.consoleClientId !== undefined
                  ? {
                      azure: {
                        clientId: opts.consoleClientId,
                        tenantId: (opts.azureTenant as string[])[0],
                        authorityHost: opts.azureAuthority,
                        ...(process.env.JIT_CONSOLE_CLIENT_SECRET ? { clientSecret: process.env.JIT_CONSOLE_CLIENT_SECRET } : {}),
                      },
                    }
                  : {}),
                fetch,
              },
              ...(opts.approvalTimeout ? { approvalTimeout: opts.approvalTimeout } : {}),
              ...(opts.sinks?.length
                ? { notify: { sinks: opts.sinks, ...(opts.consoleUrl ? { consoleUrl: opts.consoleUrl } : {}), ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}), send: fetch } }
                : {}),
            },
            { host, port },
          );
          out.progress(`broker listening on ${running.url} (stop with Ctrl-C or SIGTERM)${opts.console ? `; web console at ${new URL("/console/", opts.consoleUrl ?? running.url).href}` : ""}`);
          await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener("abort", () => resolve(), { once: true })));
          await running.close();
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

type Settings = Omit<ServeFlags, "config"> & {
  approvalTimeout?: string;
  sinks?: import("../../notify").SinkConfig[];
  intervalMs?: number;
};

/** The flags, over the config file's settings: a flag typed on the command line wins over the file, the file over a flag's default. */
function withConfig(flags: ServeFlags, cmd: Command): Settings {
  if (!flags.config) return flags;
  const { loadBrokerConfig } = require("../../broker/config") as typeof import("../../broker/config");
  const file = loadBrokerConfig(flags.config);
  const typed = (name: keyof ServeFlags) => cmd.getOptionValueSource(name) === "cli";
  const pick = <K extends keyof ServeFlags>(name: K, fromFile: ServeFlags[K] | undefined): Partial<Pick<ServeFlags, K>> => {
    const value = typed(name) || fromFile === undefined ? flags[name] : fromFile;
    return (value === undefined ? {} : { [name]: value }) as Partial<Pick<ServeFlags, K>>;
  };
  return {
    ...pick("listen", file.listen),
    ...pick("azureTenant", file.azure?.tenants),
    ...pick("azureAuthority", file.azure?.authority),
    ...pick("azureAudience", file.azure?.audiences),
    ...pick("awsStsEndpoint", file.aws?.stsEndpoints),
    ...pick("brokerId", file.aws?.brokerId),
    ...pick("reader", file.readers),
    ...pick("admin", file.admins),
    ...pick("caFile", file.caFile),
    ...pick("devIdentity", file.devIdentity),
    ...pick("rate", file.rate === undefined ? undefined : String(file.rate)),
    ...pick("consoleUrl", file.consoleUrl),
    ...pick("consoleClientId", undefined),
    ...pick("console", undefined),
    ...(file.approvals?.defaultTimeout ? { approvalTimeout: file.approvals.defaultTimeout } : {}),
    ...(file.notifications ? { sinks: file.notifications.sinks, ...(file.notifications.intervalSeconds !== undefined ? { intervalMs: file.notifications.intervalSeconds * 1000 } : {}) } : {}),
  } as Settings;
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new JitError("InvalidInput", `"${text}" is not host:port (127.0.0.1:8080, [::1]:8080)`, { field: "--listen" });
  return { host: m[1] ?? m[2], port };
}
