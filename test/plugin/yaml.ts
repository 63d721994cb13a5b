// The YAML example as the plugin sees it, and its check against schema.json.
import { readFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_KEYS } from "../../provider/src/plugin/config";
import { checkFunctionInputs, checkResourceInputs, type PackageSchema } from "../../provider/src/plugin/schema";
import { UNKNOWN } from "../support/pulumi";
import { ROOT } from "./support";

// js-yaml comes with @pulumi/pulumi; only `load` is used.
const yaml = require("js-yaml") as { load(text: string): unknown };

export const YAML_EXAMPLE = path.join(ROOT, "examples", "yaml-azure-vm", "Pulumi.yaml");

interface YamlResource {
  type: string;
  properties?: Record<string, unknown>;
  options?: Record<string, unknown>;
}
export interface YamlProgram {
  name: string;
  runtime: string;
  config?: Record<string, unknown>;
  resources: Record<string, YamlResource>;
  variables?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

export function loadYamlExample(): YamlProgram {
  return yaml.load(readFileSync(YAML_EXAMPLE, "utf8")) as YamlProgram;
}

/**
 * A YAML value as the plugin will see it before the engine knows the interpolations' values: a
 * string with `${…}` and an `fn::` expression are unknown until then.
 */
export function staticValue(value: unknown): unknown {
  if (typeof value === "string") return value.includes("${") ? UNKNOWN : value;
  if (Array.isArray(value)) return value.map(staticValue);
  if (value && typeof value === "object") {
    if (Object.keys(value).some((k) => k.startsWith("fn::"))) return UNKNOWN;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, staticValue(v)]));
  }
  return value;
}

const RESOURCE_OPTIONS = new Set(["provider", "providers", "dependsOn", "parent", "protect", "ignoreChanges", "aliases", "deleteBeforeReplace", "version", "import"]);

/** Every problem of a YAML program against the schema, as `<resource>: <path>: <reason>`. */
export function yamlProblems(doc: PackageSchema, program: YamlProgram): string[] {
  const problems: string[] = [];
  for (const [name, resource] of Object.entries(program.resources)) {
    const props = staticValue(resource.properties ?? {}) as Record<string, unknown>;
    if (resource.type === `pulumi:providers:${doc.name}`) {
      for (const [key, value] of Object.entries(props)) {
        if (!(key in CONFIG_KEYS) || !doc.provider?.inputProperties?.[key]) problems.push(`${name}: ${key}: is not a setting of the provider`);
        else if (value !== UNKNOWN && typeof value !== "string") problems.push(`${name}: ${key}: must be a string`);
      }
    } else if (resource.type.startsWith(`${doc.name}:`)) {
      problems.push(...checkResourceInputs(doc, resource.type, props).map((f) => `${name}: ${f.property}: ${f.reason}`));
    } else {
      problems.push(`${name}: ${resource.type} is not of package ${doc.name}; this example uses pulumi-jit only`);
    }
    for (const option of Object.keys(resource.options ?? {})) if (!RESOURCE_OPTIONS.has(option)) problems.push(`${name}: options.${option} is not a resource option`);
  }
  const walk = (value: unknown, where: string) => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${where}[${i}]`));
    if (!value || typeof value !== "object") return;
    const invoke = (value as Record<string, unknown>)["fn::invoke"] as { function: string; arguments?: Record<string, unknown> } | undefined;
    if (invoke) {
      if (!doc.functions?.[invoke.function]) problems.push(`${where}: ${invoke.function} is not a function of the schema`);
      else problems.push(...checkFunctionInputs(doc, invoke.function, staticValue(invoke.arguments ?? {}) as Record<string, unknown>).map((f) => `${where}: ${f.property}: ${f.reason}`));
    }
    for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
  };
  walk(program.variables, "variables");
  // `${resource.output}` names an output the schema declares.
  for (const [key, expression] of Object.entries(program.outputs ?? {})) {
    const m = /^\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}$/.exec(String(expression));
    if (!m) continue;
    const resource = program.resources[m[1]];
    const declared = resource ? doc.resources?.[resource.type]?.properties : doc.functions?.[(program.variables?.[m[1]] as { "fn::invoke"?: { function: string } })?.["fn::invoke"]?.function ?? ""]?.outputs?.properties;
    if (!declared?.[m[2]]) problems.push(`outputs.${key}: ${m[1]} has no output ${m[2]}`);
  }
  return problems;
}

