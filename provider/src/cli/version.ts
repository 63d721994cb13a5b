import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

/** The package's version, read from its package.json (two or three folders up, compiled or not). */
export function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "pulumi-jit" && pkg.version) return pkg.version;
    }
  }
  return "unknown";
}
