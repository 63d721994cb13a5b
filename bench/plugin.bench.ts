import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { startPlugin } from "../test/plugin/support";
import type { Measured, Scenario } from "./harness";

/**
 * How long the engine waits for the provider plugin: from starting the compiled plugin (the
 * package as installed runs dist/, not the TypeScript sources) to its answer to GetSchema, the
 * first thing `pulumi package add` and the engine ask of it. No cloud is involved. Starting Node
 * with nothing to run is timed first, to read the plugin's row against on a busy machine.
 */
const ENTRY = path.resolve(__dirname, "..", "dist", "plugin", "main.js");

export const scenarios: Scenario[] = [
  {
    api: "plugin",
    name: "node start, nothing loaded (baseline)",
    async run(): Promise<Measured> {
      spawnSync(process.execPath, ["-e", ""]);
      return { calls: 0, writes: 0, note: "the floor under the row below" };
    },
  },
  {
    api: "plugin",
    name: "plugin start -> GetSchema answered (dist)",
    async run(): Promise<Measured> {
      if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` before \`npm run bench\``);
      const started = process.hrtime.bigint();
      const plugin = await startPlugin({ command: [ENTRY] });
      const listening = Number(process.hrtime.bigint() - started) / 1e6;
      const schema = await plugin.schema();
      // Stopped without waiting, so that the row's time is the start and the answer only.
      void plugin.close();
      return { calls: 0, writes: 0, note: `listening after ${listening.toFixed(0)} ms; schema is ${schema.length} bytes` };
    },
  },
];
