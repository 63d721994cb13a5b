import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/**
 * A real headless Chromium for the console's tests, without a browser download from a CDN:
 * Debian's `chromium` package. `/usr/bin/chromium` when it is installed; otherwise the packages
 * apt would install are fetched with `apt-get download` and unpacked with `dpkg -x` into
 * `.cache/chromium/` (git-ignored), once, and reused by every later run.
 */
const REPO = resolve(__dirname, "../..");
const CACHE = join(REPO, ".cache", "chromium");
const BINARY = "usr/lib/chromium/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

interface Executable {
  path: string;
  env: Record<string, string>;
}

function run(command: string, args: string[], cwd?: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
}

/** The packages `apt-get install chromium` would add here (the ones not installed already). */
function packagesToFetch(): string[] {
  const simulate = () => run("apt-get", ["install", "-s", "--no-install-recommends", "chromium"]);
  let plan: string;
  try {
    plan = simulate();
  } catch {
    // No package lists yet (a fresh machine): read them once, then plan again.
    run("apt-get", ["update", "-qq"]);
    plan = simulate();
  }
  const names = [...plan.matchAll(/^Inst (\S+) /gm)].map((m) => m[1]);
  if (!names.includes("chromium")) throw new Error(`apt-get would not install chromium here:\n${plan.slice(0, 2000)}`);
  return names;
}

/** Unpacks Debian's chromium and the libraries it lacks into the cache, atomically (a rename), so a run cut short leaves nothing half-made. */
function unpack(): void {
  const staging = `${CACHE}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const debs = join(staging, "debs");
  mkdirSync(debs, { recursive: true });
  run("apt-get", ["download", "-qq", ...packagesToFetch()], debs);
  const root = join(staging, "root");
  for (const deb of readdirSync(debs).filter((f) => f.endsWith(".deb"))) run("dpkg", ["-x", join(debs, deb), root]);
  rmSync(debs, { recursive: true, force: true });
  try {
    renameSync(root, CACHE);
  } catch (err) {
    // Another test file unpacked it at the same time: theirs is as good.
    if (!existsSync(join(CACHE, BINARY))) throw err;
  }
  rmSync(staging, { recursive: true, force: true });
}

export function chromiumExecutable(): Executable {
  if (existsSync("/usr/bin/chromium")) return { path: "/usr/bin/chromium", env: {} };
  if (!existsSync(join(CACHE, BINARY))) unpack();
  const libs = ["usr/lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/pulseaudio", "usr/lib/chromium"].map((d) => join(CACHE, d));
  return { path: join(CACHE, BINARY), env: { LD_LIBRARY_PATH: [...libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") } };
}

/** One headless Chromium per test file; close it in `after`. */
export async function launchBrowser(): Promise<Browser> {
  const exe = chromiumExecutable();
  const env = Object.fromEntries(Object.entries({ ...process.env, ...exe.env }).filter((e): e is [string, string] => e[1] !== undefined));
  return chromium.launch({ executablePath: exe.path, args: FLAGS, env, headless: true });
}

/** What axe-core finds on the page at its impacts of `serious` and `critical`, as "rule: target" lines. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, so the page's own CSP (scripts from 'self' only) stays on.
  axeSource ??= readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(axeSource);
  const result = (await page.evaluate("window.axe.run(document, { resultTypes: ['violations'] })")) as { violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] };
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")}`));
}
let axeSource: string | undefined;

/** A full-page screenshot under test-artifacts/<area>/ (git-ignored). */
export async function saveScreenshot(page: Page, area: string, name: string): Promise<string> {
  const dir = join(REPO, "test-artifacts", area);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
