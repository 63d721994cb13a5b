import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Scenario } from "./harness";

/**
 * How long `jit` takes to start, from the package as npm installs it (compiled `dist/`, no
 * TypeScript loader), against a bare `node -e 0` on the same machine: the ratio is what a person
 * feels on every command, whatever the machine's speed.
 */
const ROOT = path.resolve(__dirname, "..");
const RUNS = 15;

/** The package as installed: package.json, bin/ and a fresh build of dist/ (as `npm run build` makes it), with the checkout's dependencies. */
function installedPackage(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "jit-startup-"));
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "build.js"), "--outDir", path.join(dir, "dist")], { cwd: ROOT });
  mkdirSync(path.join(dir, "bin"));
  copyFileSync(path.join(ROOT, "bin", "jit.js"), path.join(dir, "bin", "jit.js"));
  copyFileSync(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Wall time of one `node <args>`, in milliseconds. */
function wallMs(args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, args, { cwd, stdio: "ignore" });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Medians of RUNS runs of each, taken in turns so that a busy machine slows both alike. */
function medians(a: string[], b: string[], cwd: string): [number, number] {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < RUNS; i++) {
    times[0].push(wallMs(a, cwd));
    times[1].push(wallMs(b, cwd));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return [median(times[0]), median(times[1])];
}

/** The package must print what the checkout prints: a faster start that says something else is no faster start. */
function sameAsCheckout(dir: string, jitArgs: string[]): void {
  const printed = (bin: string) => execFileSync(process.execPath, [bin, ...jitArgs], { cwd: dir, encoding: "utf8" });
  const [installed, checkout] = [printed(path.join(dir, "bin", "jit.js")), printed(path.join(ROOT, "bin", "jit.js"))];
  if (installed !== checkout) throw new Error(`jit ${jitArgs.join(" ")} from the built package prints something other than from the checkout:\n${installed}\n---\n${checkout}`);
}

function startup(name: string, jitArgs: string[], pkg: () => string, last: boolean): Scenario {
  return {
    api: "CLI",
    name,
    async run() {
      const dir = pkg();
      try {
        sameAsCheckout(dir, jitArgs);
        const [bare, jit] = medians(["-e", "0"], [path.join(dir, "bin", "jit.js"), ...jitArgs], dir);
        return { calls: 0, writes: 0, note: `${(jit / bare).toFixed(2)}x node -e 0 (median of ${RUNS}: ${jit.toFixed(0)} ms vs ${bare.toFixed(0)} ms)` };
      } finally {
        if (last) installed?.remove();
      }
    },
  };
}

/** Built once, by the first scenario that runs, and removed after the last. */
let installed: ReturnType<typeof installedPackage> | undefined;
const pkg = () => (installed ??= installedPackage()).dir;

export const scenarios: Scenario[] = [
  startup("jit --help, installed package", ["--help"], pkg, false),
  startup("jit --version, installed package", ["--version"], pkg, false),
  // Through the command-line parser, which defines only the command it runs.
  startup("jit request --help, installed package", ["request", "--help"], pkg, true),
];
