import { readFileSync } from "node:fs";
import { z } from "zod";
import { JitError } from "../model/errors";
import { parseDuration } from "../model/duration";
import { MAX_LENGTH, boundedString, fieldPath, parseOrThrow, viaParser } from "../model/validate";
import { SinkConfig } from "../notify/sinks";

/**
 * `jit serve --config broker.yaml`: everything the broker's flags say, plus notification sinks,
 * the console's URL and approval defaults, in one file (YAML, or JSON, which is YAML too). Secrets
 * (webhook URLs, HMAC keys) may be written as `{ env: NAME }` so that the file itself holds none.
 * Errors name the key path (`notifications.sinks[1].url`).
 */
const FromEnv = z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" }) });
const Principal = boundedString(MAX_LENGTH.principal).min(1);
const Principals = z.array(Principal).max(100, { error: "at most 100 principals" });

const Listen = z.string().regex(/^(?:\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, { error: "must be host:port, such as 127.0.0.1:8080 or [::1]:8080" });

/** A sink as written in the file: its secrets may come from the environment. */
const SinkInFile = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("slack"), name: z.string(), url: z.union([z.string(), FromEnv]), events: z.array(z.string()).optional() }),
  z.strictObject({ kind: z.literal("teams"), name: z.string(), url: z.union([z.string(), FromEnv]), events: z.array(z.string()).optional() }),
  z.strictObject({ kind: z.literal("webhook"), name: z.string(), url: z.union([z.string(), FromEnv]), secret: z.union([z.string(), FromEnv]), events: z.array(z.string()).optional() }),
]);

export const BrokerConfigFile = z.strictObject({
  listen: Listen.optional(),
  azure: z
    .strictObject({
      tenants: z.array(z.string().regex(/^[0-9a-f-]{36}$/i, { error: "must be a tenant id (a GUID)" })).min(1, { error: "must list at least one tenant" }),
      authority: z.url({ protocol: /^https?$/ }).optional(),
      audiences: z.array(z.string().min(1)).min(1).optional(),
    })
    .optional(),
  aws: z
    .strictObject({
      stsEndpoints: z.array(z.url({ protocol: /^https?$/ })).min(1, { error: "must list at least one STS endpoint" }),
      brokerId: z.string().min(1).max(256),
    })
    .optional(),
  readers: Principals.optional(),
  admins: Principals.optional(),
  caFile: z.string().min(1).optional(),
  devIdentity: z.string().min(1).max(256).optional(),
  /** Requests per minute per caller. */
  rate: z.number().int().min(1, { error: "must be at least 1" }).max(100_000).optional(),
  /** Where the approve/deny links in notifications point: the console's base URL. */
  consoleUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  approvals: z
    .strictObject({
      /** How long a request waits for approval when its policy names no `approvalTimeout`. */
      defaultTimeout: boundedString(MAX_LENGTH.time)
        .superRefine(
          viaParser((text) => {
            const ms = parseDuration(text);
            if (ms < 60_000 || ms > 7 * 86_400_000) throw new JitError("InvalidInput", `"${text}" is outside the allowed range PT1M to P7D`);
          }),
        )
        .optional(),
    })
    .optional(),
  notifications: z
    .strictObject({
      /** How often the outbox is read, in seconds (default 2). */
      intervalSeconds: z.number().min(0.1).max(3600).optional(),
      sinks: z.array(SinkInFile).max(20, { error: "at most 20 sinks" }),
    })
    .optional(),
});
export type BrokerConfigFile = z.output<typeof BrokerConfigFile>;

/** The file with its secrets read from the environment and its sinks fully validated. */
export type BrokerConfig = Omit<BrokerConfigFile, "notifications"> & { notifications?: { intervalSeconds?: number; sinks: SinkConfig[] } };

/** Parses and validates a config document; `source` names it in errors. Throws `InvalidInput` whose field is `<source>: <key path>`. */
export function parseBrokerConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  let data: unknown;
  try {
    const { parse } = require("yaml") as typeof import("yaml");
    data = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    const where = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new JitError("InvalidInput", `${source}${where ? ` line ${where.line}, column ${where.col}` : ""} is not YAML or JSON: ${((err as Error).message.split("\n")[0] ?? "").trim()}`, { field: "--config" });
  }
  if (data === null || data === undefined) data = {};
  // A misspelt key is the commonest mistake in a hand-written file: name the key itself.
  const first = BrokerConfigFile.safeParse(data).error?.issues[0];
  if (first?.code === "unrecognized_keys") {
    const key = first.keys[0];
    throw new JitError("InvalidInput", `invalid broker config ${source}: unknown key "${key}"`, { field: fieldPath([...first.path, key]) });
  }
  const file = parseOrThrow(BrokerConfigFile, data, `broker config ${source}`);
  const sinks = (file.notifications?.sinks ?? []).map((sink, i) => {
    const at = `notifications.sinks[${i}]`;
    const resolve = (value: string | { env: string }, key: string): string => {
      if (typeof value === "string") return value;
      const found = env[value.env];
      if (!found) throw new JitError("InvalidInput", `invalid broker config ${source}: environment variable ${value.env} is not set`, { field: `${at}.${key}` });
      return found;
    };
    const resolved = { ...sink, url: resolve(sink.url, "url"), ...(sink.kind === "webhook" ? { secret: resolve(sink.secret, "secret") } : {}) };
    return parseOrThrow(SinkConfig, resolved, `broker config ${source}`, at);
  });
  const names = new Set<string>();
  sinks.forEach((s, i) => {
    if (names.has(s.name)) throw new JitError("InvalidInput", `invalid broker config ${source}: sink name "${s.name}" is used twice`, { field: `notifications.sinks[${i}].name` });
    names.add(s.name);
  });
  const { notifications, ...rest } = file;
  return { ...rest, ...(notifications ? { notifications: { ...notifications, sinks } } : {}) };
}

/** Reads and validates the config file at `path`. */
export function loadBrokerConfig(path: string, env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new JitError("InvalidInput", `cannot read the broker config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { field: "--config" });
  }
  if (text.length > 1024 * 1024) throw new JitError("InvalidInput", `the broker config ${path} is larger than 1 MiB`, { field: "--config" });
  return parseBrokerConfig(text, path, env);
}
