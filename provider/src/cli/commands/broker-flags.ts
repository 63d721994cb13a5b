import { Command, Option } from "../commander";
import type { BrokerClient } from "../../broker/client";
import type { Cloud } from "../../model";
import { JitError } from "../../model/errors";

/** The flags every command that can go through a broker takes. */
export interface BrokerFlags {
  broker?: string;
  cloud?: string;
}

/** Adds `--broker` and `--cloud` to a command. */
export function addBrokerFlags(command: Command): Command {
  return command
    .option("--broker <url>", "ask this access broker (`jit serve`) instead of using your own credentials (default: $JIT_BROKER_URL)")
    .addOption(new Option("--cloud <cloud>", "which identity to prove to a broker that accepts both (default: $JIT_BROKER_CLOUD)").choices(["azure", "aws"]));
}

/** The broker client `--broker` (or `JIT_BROKER_URL`) names, if any. */
export function brokerClient(opts: BrokerFlags, env: NodeJS.ProcessEnv): { url: string; client: BrokerClient } | undefined {
  const url = opts.broker ?? (env.JIT_BROKER_URL || undefined);
  if (url === undefined) return undefined;
  try {
    new URL(url);
  } catch {
    throw new JitError("InvalidInput", `"${url}" is not a URL`, { field: opts.broker ? "--broker" : "JIT_BROKER_URL" });
  }
  const cloud = (opts.cloud ?? (env.JIT_BROKER_CLOUD || undefined)) as Cloud | undefined;
  const { BrokerClient } = require("../../broker/client") as typeof import("../../broker/client");
  return { url, client: new BrokerClient({ url, ...(cloud ? { cloud } : {}) }) };
}
