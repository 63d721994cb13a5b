// The programs in other languages, checked as far as this repository can without the Pulumi CLI:
// the YAML program's resources, properties and function arguments against schema.json (with the
// plugin's own schema validator), and the Python program compiled and its use of the generated SDK
// (classes, keywords, enums, functions, outputs) matched against the names the Python SDK generator
// derives from schema.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { packageSchema, type PackageSchema } from "../../provider/src/plugin/schema";
import { ROOT } from "./support";
import { loadYamlExample, yamlProblems } from "./yaml";

const PYTHON_EXAMPLE = path.join(ROOT, "examples", "python-aws-ec2", "__main__.py");

test("the YAML example's resources, properties, functions and outputs are the schema's", () => {
  const { doc } = packageSchema();
  const program = loadYamlExample();
  assert.equal(program.runtime, "yaml");
  const types = Object.values(program.resources).map((r) => r.type);
  assert.ok(types.includes("pulumi-jit:azure:JitPolicy") && types.includes("pulumi-jit:azure:JitRole"));
  assert.deepEqual(yamlProblems(doc, program), []);

  // The check catches each kind of mistake a YAML author makes.
  const broken = structuredClone(program);
  const vm = (broken.resources.policy.properties!.virtualMachines as Record<string, unknown>[])[0];
  const port = (vm.ports as Record<string, unknown>[])[0];
  port.protocol = "ICMP";
  port.allowedSourceAddressPrefx = port.allowedSourceAddressPrefix;
  broken.resources.requestRole.properties!.kind = "requestor";
  broken.resources.jit.properties!.azureToken = "x";
  (broken.variables!.openGrants as Record<string, { arguments: Record<string, unknown> }>)["fn::invoke"].arguments.limit = "ten";
  broken.outputs!.denyRules = "${policy.denyRules}";
  assert.deepEqual(yamlProblems(doc, broken), [
    `jit: azureToken: is not a setting of the provider`,
    `policy: virtualMachines[0].ports[0].protocol: must be one of "TCP", "UDP", "*", not "ICMP"`,
    `policy: virtualMachines[0].ports[0].allowedSourceAddressPrefx: is not a property of pulumi-jit:index:PortRule; it has number, protocol, allowedSourceAddressPrefix, allowedSourceAddressPrefixes, maxRequestAccessDuration, approvalsRequired`,
    `requestRole: kind: must be one of "configure", "request", "broker", "direct", "read", not "requestor"`,
    `variables.openGrants: limit: must be a whole number, not "ten"`,
    `outputs.denyRules: policy has no output denyRules`,
  ]);
});

// What the Python program uses of `jit` (the generated SDK), read from its syntax tree by Python itself.
const PY_USES = String.raw`
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
def chain(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr); node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id); return list(reversed(parts))
    return None
calls, attrs, made = [], [], {}
for node in ast.walk(tree):
    if isinstance(node, ast.Call):
        c = chain(node.func)
        if c and c[0] == "jit":
            calls.append({"callee": c[1:], "keywords": [k.arg for k in node.keywords if k.arg]})
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        c = chain(node.value.func)
        if c and c[0] == "jit":
            made[node.targets[0].id] = c[1:]
for node in ast.walk(tree):
    if isinstance(node, ast.Attribute):
        c = chain(node)
        if c and c[0] == "jit" and len(c) == 3 and isinstance(getattr(node, "ctx", None), ast.Load):
            attrs.append(c[1:])
        elif c and len(c) == 2 and c[0] in made:
            attrs.append({"of": made[c[0]], "output": c[1]})
print(json.dumps({"calls": calls, "attrs": attrs}))
`;

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** Problems of the Python program's use of the SDK, under the Python generator's naming rules. */
function pythonProblems(doc: PackageSchema, uses: { calls: { callee: string[]; keywords: string[] }[]; attrs: (string[] | { of: string[]; output: string })[] }): string[] {
  const problems: string[] = [];
  const tokenOf = (callee: string[]) => (callee.length === 2 ? `${doc.name}:${callee[0]}:${callee[1]}` : `${doc.name}:index:${callee[0]}`);
  const properties = (callee: string[]): { inputs?: Record<string, unknown>; outputs?: Record<string, unknown>; what: string } | undefined => {
    const name = callee[callee.length - 1];
    if (callee.length === 1 && name === "Provider") return { inputs: doc.provider?.inputProperties, outputs: {}, what: "the provider" };
    if (/^[A-Z]/.test(name) && name.endsWith("Args")) {
      const token = tokenOf([...callee.slice(0, -1), name.slice(0, -"Args".length)]);
      return doc.types?.[token] ? { inputs: doc.types[token].properties, what: `type ${token}` } : undefined;
    }
    if (/^[A-Z]/.test(name)) {
      const r = doc.resources?.[tokenOf(callee)];
      return r ? { inputs: r.inputProperties, outputs: r.properties, what: `resource ${tokenOf(callee)}` } : undefined;
    }
    const token = tokenOf([...callee.slice(0, -1), camel(name.replace(/_output$/, ""))]);
    const f = doc.functions?.[token];
    return f ? { inputs: f.inputs?.properties, outputs: f.outputs?.properties, what: `function ${token}` } : undefined;
  };
  for (const { callee, keywords } of uses.calls) {
    const found = properties(callee);
    if (!found) {
      problems.push(`jit.${callee.join(".")}: not in the schema`);
      continue;
    }
    for (const k of keywords) if (k !== "opts" && !found.inputs?.[camel(k)]) problems.push(`jit.${callee.join(".")}(${k}=…): ${found.what} has no input ${camel(k)}`);
  }
  for (const attr of uses.attrs) {
    if (Array.isArray(attr)) {
      const [typeName, member] = attr;
      const type = doc.types?.[`${doc.name}:index:${typeName}`];
      if (type?.enum && !type.enum.some((e) => (e.name ?? String(e.value)).toUpperCase() === member)) problems.push(`jit.${typeName}.${member}: no such enum value`);
      continue;
    }
    const found = properties(attr.of);
    if (found?.outputs && !found.outputs[camel(attr.output)]) problems.push(`${attr.of.join(".")} result .${attr.output}: ${found.what} has no output ${camel(attr.output)}`);
  }
  return problems;
}

test("the Python example compiles and uses only what the schema generates", () => {
  const cache = mkdtempSync(path.join(tmpdir(), "jit-pycache-"));
  try {
    const env = { ...process.env, PYTHONPYCACHEPREFIX: cache };
    const compiled = spawnSync("python3", ["-m", "py_compile", PYTHON_EXAMPLE], { env, encoding: "utf8" });
    assert.equal(compiled.status, 0, compiled.stderr);
    const read = spawnSync("python3", ["-c", PY_USES, PYTHON_EXAMPLE], { env, encoding: "utf8" });
    assert.equal(read.status, 0, read.stderr);
    const uses = JSON.parse(read.stdout) as Parameters<typeof pythonProblems>[1];
    const { doc } = packageSchema();
    const used = uses.calls.map((c) => c.callee.join("."));
    for (const expected of ["Provider", "aws.JitPolicy", "aws.JitInstanceArgs", "PortRuleArgs", "aws.JitRolePolicy", "list_grants_output"]) assert.ok(used.includes(expected), `uses jit.${expected}`);
    assert.deepEqual(pythonProblems(doc, uses), []);

    const broken = structuredClone(uses);
    broken.calls.push({ callee: ["aws", "JitPolicy"], keywords: ["vms"] }, { callee: ["azure", "JitPolicyArgs"], keywords: [] });
    broken.attrs.push(["Protocol", "ICMP"], { of: ["aws", "JitPolicy"], output: "deny_rules" });
    assert.deepEqual(pythonProblems(doc, broken), [
      "jit.aws.JitPolicy(vms=…): resource pulumi-jit:aws:JitPolicy has no input vms",
      "jit.azure.JitPolicyArgs: not in the schema",
      "jit.Protocol.ICMP: no such enum value",
      "aws.JitPolicy result .deny_rules: resource pulumi-jit:aws:JitPolicy has no output denyRules",
    ]);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
