// schema.json is the package's Pulumi schema: the provider plugin serves it as it is (GetSchema)
// and checks every resource input and function argument against it, and it documents the
// TypeScript classes. This test validates the document against Pulumi's package metaschema, then
// checks what the metaschema cannot express (references resolve, required names are declared), and
// finally that the schema and the code say the same thing: every resource is an exported class
// registering the matching type and one the plugin serves, every function is an invoke the plugin
// serves, the provider's configuration is the plugin's, and property names, required lists and enum
// values match the code's models.
//
// Adding a resource to the package means one entry in RESOURCES below (plus its types in
// OBJECT_TYPES when they mirror a model); a function is an invoke in the plugin; see docs/schema.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import fc from "fast-check";
import type { z } from "zod";
import * as jit from "../provider/src";
import type { BaselineRule, VmBaselineStatus } from "../provider/src/driver";
import {
  AccessRequest,
  AccessRequestInput,
  ApprovalVote,
  AutoApproveRule,
  BreakGlass,
  GrantApproval,
  Change,
  ChangeStatus,
  CheckedPort,
  CheckedVm,
  Cloud,
  Grant,
  GrantReason,
  GrantState,
  IpPermission,
  Policy,
  PolicyVm,
  PortRule,
  Protocol,
  RequestPort,
  RequestVm,
} from "../provider/src/model";
import { CONFIG_KEYS } from "../provider/src/plugin/config";
import { INVOKE_TOKENS } from "../provider/src/plugin/invokes";
import { COMPONENT_TYPES } from "../provider/src/plugin/components";
import { POLICY_TYPES } from "../provider/src/plugin/provider";
import { checkResourceInputs, type ObjectSpec, type PackageSchema, type PropertySpec } from "../provider/src/plugin/schema";
import { POLICY_RESOURCE_INPUTS, checkPolicyInputs, type PolicyResourceInputs } from "../provider/src/pulumi/inputs";
import { JitPortArgs, POLICY_RESOURCE_TYPE, RESOURCE_MODULE } from "../provider/src/pulumi/policy-resource";
import { IamPolicyDocument, IamStatement, ROLE_KINDS } from "../provider/src/roles";
import { JIT_ROLE_POLICY_TYPE } from "../provider/src/roles/aws-component";
import { JIT_ROLE_TYPE } from "../provider/src/roles/azure-component";
import { AWS_BROKER_TYPE } from "../provider/src/pulumi/aws-broker";
import { AZURE_BROKER_TYPE } from "../provider/src/pulumi/azure-broker";
import { outputOf, runMockProgram } from "./support/pulumi";

const ROOT = path.resolve(__dirname, "..");
const SCHEMA_PATH = path.join(ROOT, "schema.json");
/** Pulumi's metaschema (pkg/codegen/schema/pulumi.json), kept with the other published specifications in specs/. */
const METASCHEMA_PATH = path.resolve(ROOT, "specs", "pulumi", "package-metaschema.json");
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  description: string;
  license: string;
  keywords: string[];
  repository?: string | { url: string };
};

// The schema document's types are the plugin's own (`provider/src/plugin/schema.ts`); the metaschema
// is what says it is well formed.

function loadSchema(): PackageSchema {
  return JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as PackageSchema;
}

function splitToken(token: string): { pkg: string; module: string; name: string } {
  const [pkg, module, name] = token.split(":");
  return { pkg, module, name };
}

// ---------------------------------------------------------------------------------------------
// What the code defines. Each table is the one place to touch when the package grows.

/** The type token `pulumi.dynamic.Resource` registers: `pulumi-nodejs:dynamic[/<module>]:<type>`. */
function dynamicResourceType(module: string | undefined, type: string): string {
  return `pulumi-nodejs:dynamic${module ? `/${module}` : ""}:${type}`;
}

/**
 * The schema token a runtime type token stands for. A dynamic resource's module carries the package
 * (`pulumi-nodejs:dynamic/pulumi-jit/azure:JitPolicy` is `pulumi-jit:azure:JitPolicy`); a component
 * registers its schema token as it is.
 */
function schemaTokenOf(runtimeType: string): string {
  const dynamic = /^pulumi-nodejs:dynamic\/([^/:]+)\/([^:]+):(.+)$/.exec(runtimeType);
  return dynamic ? `${dynamic[1]}:${dynamic[2]}:${dynamic[3]}` : runtimeType;
}

/** The inputs `POLICY_RESOURCE_INPUTS` gives one cloud's JitPolicy. */
function policyInputsOf(cloud: Cloud): string[] {
  return Object.entries(POLICY_RESOURCE_INPUTS)
    .filter(([, clouds]) => (clouds as readonly string[]).includes(cloud))
    .map(([key]) => key);
}

const SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000";
const AZURE_VM_ID = `${SUBSCRIPTION}/resourceGroups/app/providers/Microsoft.Compute/virtualMachines/web1`;
const PORTS = [{ number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT1H" }];

interface ResourceEntry {
  /** The resource's schema token. */
  token: string;
  /** The class as `provider/src/index.ts` exports it. */
  exported: unknown;
  /** The type token the class registers, from the code's own constants. */
  runtimeType: string;
  /** The input names the code defines for it. */
  inputs: readonly string[];
  /** Those a caller must give (checked against the argument interface in TYPE_LEVEL). */
  requiredInputs: readonly string[];
  /** Makes one with every input set, inside a mocked program (no provider code runs). */
  construct: () => pulumi.Resource;
  /** What the children's registrations answer, where the component reads their outputs (ARNs, host names). */
  mocks?: Partial<pulumi.runtime.Mocks>;
}

// The components' argument names: their classes keep no list at run time, so the lists are here and
// the compiler checks them against the argument interfaces (TYPE_LEVEL below).
const JIT_ROLE_INPUTS = ["kind", "scope", "roleName", "description", "principalId", "principalType", "assignmentScope"] as const;
const JIT_ROLE_REQUIRED = ["kind", "scope"] as const;
const JIT_ROLE_POLICY_INPUTS = ["kind", "instanceArns", "tag", "region", "accountId", "principalArns", "policyName", "description", "role", "user"] as const;
const JIT_ROLE_POLICY_REQUIRED = ["kind"] as const;
const POLICY_REQUIRED = ["virtualMachines"] as const;
const AWS_BROKER_INPUTS = ["instanceArns", "tag", "region", "accountId", "sweepSchedule", "exactTimeExpiry", "authType", "awsStsEndpoints", "brokerId", "azureTenants", "readers", "admins", "memorySize", "logRetentionDays", "vpcConfig", "handlerPackage", "tags"] as const;
const AZURE_BROKER_INPUTS = ["resourceGroupName", "location", "scopes", "tenants", "audiences", "readers", "admins", "sweepSchedule", "maximumInstanceCount", "instanceMemoryMB", "allowedIpRanges", "roleName", "handlerPackage", "tags"] as const;
const AZURE_BROKER_REQUIRED = ["resourceGroupName", "scopes", "tenants"] as const;

/** A stand-in for a built function package: under mocks the components only check that one is there. */
const FUNCTION_PACKAGE = (() => {
  const dir = mkdtempSync(path.join(tmpdir(), "jit-schema-package-"));
  writeFileSync(path.join(dir, "index.js"), "");
  return dir;
})();

/** Children answer with the outputs the broker components read from them. */
const BROKER_MOCKS: Partial<pulumi.runtime.Mocks> = {
  newResource: (a) => ({
    id: `${a.name}-id`,
    state: {
      ...a.inputs,
      name: a.inputs.name ?? a.inputs.tableName ?? a.inputs.queueName ?? a.inputs.containerName ?? a.name,
      arn: `arn:aws:${a.type.split(":")[1].split("/")[0]}:eu-west-1:123456789012:${a.name}`,
      functionUrl: "https://abc.lambda-url.eu-west-1.on.aws/",
      identity: { type: "SystemAssigned", principalId: "11111111-2222-3333-4444-555555555555" },
      defaultHostName: "jit-app.azurewebsites.net",
    },
  }),
};

// One entry per schema resource. A dynamic resource registers `pulumi-nodejs:dynamic/...`; a
// component registers its schema token as it is.
const RESOURCES: ResourceEntry[] = [
  {
    token: "pulumi-jit:azure:JitPolicy",
    exported: jit.azure.JitPolicy,
    runtimeType: dynamicResourceType(RESOURCE_MODULE.azure, POLICY_RESOURCE_TYPE),
    inputs: policyInputsOf("azure"),
    requiredInputs: POLICY_REQUIRED,
    construct: () =>
      new jit.azure.JitPolicy("web", {
        policyName: "web",
        resourceGroupName: "app",
        virtualMachines: [{ id: AZURE_VM_ID, ports: PORTS, publicIpAddress: "198.51.100.4" }],
        requesters: ["ana@contoso.com"],
        approvers: ["00000000-0000-0000-0000-000000000001"],
        approvalsRequired: 1,
        approvalTimeout: "PT30M",
        autoApprove: [{ sourceWithin: ["203.0.113.0/28"], maxDuration: "PT15M" }],
        breakGlass: { principals: ["oncall@contoso.com"] },
      }),
  },
  {
    token: "pulumi-jit:aws:JitPolicy",
    exported: jit.aws.JitPolicy,
    runtimeType: dynamicResourceType(RESOURCE_MODULE.aws, POLICY_RESOURCE_TYPE),
    inputs: policyInputsOf("aws"),
    requiredInputs: POLICY_REQUIRED,
    construct: () =>
      new jit.aws.JitPolicy("web", {
        policyName: "web",
        virtualMachines: [{ id: "i-0123456789abcdef0", ports: PORTS }],
        requesters: ["arn:aws:iam::123456789012:role/Ops"],
        approvers: ["arn:aws:iam::123456789012:role/Lead"],
        approvalsRequired: 2,
        approvalTimeout: "PT30M",
        autoApprove: [{ maxDuration: "PT15M" }],
        breakGlass: { principals: ["arn:aws:iam::123456789012:role/OnCall"], maxRequestAccessDuration: "PT30M" },
        allowSharedSecurityGroups: false,
      }),
  },
  {
    token: "pulumi-jit:azure:JitRole",
    exported: jit.azure.JitRole,
    runtimeType: JIT_ROLE_TYPE,
    inputs: JIT_ROLE_INPUTS,
    requiredInputs: JIT_ROLE_REQUIRED,
    construct: () =>
      new jit.azure.JitRole("role", {
        kind: "request",
        scope: SUBSCRIPTION,
        roleName: "JIT requesters",
        description: "request JIT access",
        principalId: "00000000-0000-0000-0000-0000000000aa",
        principalType: "Group",
        assignmentScope: `${SUBSCRIPTION}/resourceGroups/app`,
      }),
  },
  {
    token: "pulumi-jit:aws:JitRolePolicy",
    exported: jit.aws.JitRolePolicy,
    runtimeType: JIT_ROLE_POLICY_TYPE,
    inputs: JIT_ROLE_POLICY_INPUTS,
    requiredInputs: JIT_ROLE_POLICY_REQUIRED,
    // `instanceArns` and `tag` exclude each other, so the tag is left out here; its name is checked by TYPE_LEVEL.
    construct: () =>
      new jit.aws.JitRolePolicy("role", {
        kind: "request",
        instanceArns: ["arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"],
        region: "eu-west-1",
        accountId: "123456789012",
        principalArns: ["arn:aws:iam::123456789012:role/Ops"],
        policyName: "jit-request",
        description: "request JIT access",
        role: "ops",
        user: "ana",
      }),
  },
  {
    token: "pulumi-jit:aws:JitBroker",
    exported: jit.aws.JitBroker,
    runtimeType: AWS_BROKER_TYPE,
    inputs: AWS_BROKER_INPUTS,
    requiredInputs: [],
    mocks: BROKER_MOCKS,
    // `instanceArns` and `tag` exclude each other, as do IAM auth and the broker's own STS check.
    construct: () =>
      new jit.aws.JitBroker("broker", {
        instanceArns: ["arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"],
        region: "eu-west-1",
        accountId: "123456789012",
        sweepSchedule: "rate(10 minutes)",
        exactTimeExpiry: true,
        readers: ["arn:aws:iam::123456789012:role/Audit"],
        admins: ["arn:aws:iam::123456789012:role/Ops"],
        memorySize: 512,
        logRetentionDays: 14,
        handlerPackage: FUNCTION_PACKAGE,
        tags: { team: "platform" },
      }),
  },
  {
    token: "pulumi-jit:azure:JitBroker",
    exported: jit.azure.JitBroker,
    runtimeType: AZURE_BROKER_TYPE,
    inputs: AZURE_BROKER_INPUTS,
    requiredInputs: AZURE_BROKER_REQUIRED,
    mocks: BROKER_MOCKS,
    construct: () =>
      new jit.azure.JitBroker("broker", {
        resourceGroupName: "jit",
        location: "westeurope",
        scopes: [`${SUBSCRIPTION}/resourceGroups/app`],
        tenants: ["00000000-0000-0000-0000-0000000000aa"],
        readers: ["00000000-0000-0000-0000-0000000000ab"],
        sweepSchedule: "0 */10 * * * *",
        maximumInstanceCount: 10,
        instanceMemoryMB: 2048,
        allowedIpRanges: ["203.0.113.0/24"],
        roleName: "jit broker",
        handlerPackage: FUNCTION_PACKAGE,
        tags: { team: "platform" },
      }),
  },
];

/**
 * Resource classes `provider/src/index.ts` exports whose schema entries are still to be written, as
 * `<module>.<Class>`. An entry must name an exported resource class that schema.json lacks; once the
 * schema has it, the check asks for the entry to move from here to RESOURCES.
 */
const NOT_IN_SCHEMA_YET: readonly string[] = [];


type ZodObjectLike = z.ZodType & { shape: Record<string, z.ZodType> };

/** The object schema under refinements and transforms (`PortRule` is a pipe from its object). */
function objectOf(schema: z.ZodType): ZodObjectLike {
  const s = schema as unknown as { shape?: unknown; def: { type: string; in?: z.ZodType; innerType?: z.ZodType; element?: z.ZodType } };
  if (s.shape) return schema as ZodObjectLike;
  const inner = s.def.in ?? s.def.innerType ?? s.def.element;
  if (!inner) throw new Error(`not an object schema: ${s.def.type}`);
  return objectOf(inner);
}

interface ExpectedObject {
  /** Where in the schema: `types.<token>`, `functions.<token>.inputs`, and so on. */
  at: string;
  properties: string[];
  required: string[];
}

/**
 * What a zod model says an object type must declare. Inputs require the fields a caller must give
 * (neither optional nor defaulted); outputs those always present.
 */
function fromModel(at: string, model: z.ZodType, side: "input" | "output", changes: { omit?: string[]; add?: string[] } = {}): ExpectedObject {
  const shape = objectOf(model).shape;
  const keys = Object.keys(shape).filter((k) => !changes.omit?.includes(k));
  const required = keys.filter((k) => {
    const internals = (shape[k] as unknown as { _zod: { optin?: string; optout?: string } })._zod;
    return (side === "input" ? internals.optin : internals.optout) === undefined;
  });
  return { at, properties: [...keys, ...(changes.add ?? [])], required: [...required, ...(changes.add ?? [])] };
}

// Types with no zod model: their names are listed here, and the compiler checks the lists against
// the TypeScript types (see TYPE_LEVEL below).
const BASELINE_RULE_KEYS = ["container", "name", "priority", "ports", "action"] as const;
const BASELINE_RULE_REQUIRED = ["container", "name", "ports", "action"] as const;
const VM_STATUS_KEYS = ["vmId", "status", "detail"] as const;
const VM_STATUS_REQUIRED = ["vmId", "status"] as const;
const BASELINE_ACTIONS = ["deny", "revoked", "split"] as const;
const BASELINE_STATUSES = ["protected", "exposed", "notApplicable"] as const;
const ROLE_TAG_KEYS = ["key", "value"] as const;
const IAM_DOCUMENT_KEYS = ["Version", "Statement"] as const;
const IAM_STATEMENT_KEYS = ["Sid", "Effect", "Action", "Resource", "Condition"] as const;
const IAM_STATEMENT_REQUIRED = ["Sid", "Effect", "Action", "Resource"] as const;

const CHANGE_TYPES: Record<Change["kind"], string> = {
  "azure-nsg-rule": "pulumi-jit:index:AzureNsgRuleChange",
  "azure-firewall-nat-rule": "pulumi-jit:index:AzureFirewallNatRuleChange",
  "aws-sg-rule": "pulumi-jit:index:AwsSecurityGroupRuleChange",
  "aws-sg": "pulumi-jit:index:AwsSecurityGroupChange",
};
const changeOptions: readonly z.ZodType[] = Change.options;
const ipShape = objectOf(IpPermission).shape;

const OBJECT_TYPES: ExpectedObject[] = [
  fromModel("types.pulumi-jit:index:PortRule", PortRule, "input"),
  fromModel("types.pulumi-jit:index:PolicyVirtualMachine", PolicyVm, "input"),
  fromModel("types.pulumi-jit:azure:JitVirtualMachine", PolicyVm, "input"),
  // The Azure Firewall address means nothing on EC2, and the policy refuses it there.
  fromModel("types.pulumi-jit:aws:JitInstance", PolicyVm, "input", { omit: ["publicIpAddress"] }),
  fromModel("types.pulumi-jit:index:Policy", Policy, "input"),
  fromModel("types.pulumi-jit:index:RequestPort", RequestPort, "input"),
  fromModel("types.pulumi-jit:index:RequestVirtualMachine", RequestVm, "input"),
  // checkRequest: the request, less the requester (taken from credentials at request time), plus the policy's name.
  fromModel("functions.pulumi-jit:index:checkRequest.inputs", AccessRequest, "input", { omit: ["requester"], add: ["policy"] }),
  fromModel("types.pulumi-jit:index:Grant", Grant, "output"),
  fromModel("types.pulumi-jit:index:GrantApproval", GrantApproval, "output"),
  fromModel("types.pulumi-jit:index:ApprovalVote", ApprovalVote, "output"),
  fromModel("types.pulumi-jit:index:AutoApproveRule", AutoApproveRule, "input"),
  fromModel("types.pulumi-jit:index:BreakGlass", BreakGlass, "input"),
  fromModel("types.pulumi-jit:index:GrantVirtualMachine", CheckedVm, "output"),
  fromModel("types.pulumi-jit:index:GrantPort", CheckedPort, "output"),
  ...changeOptions.map((option) => {
    const kind = (objectOf(option).shape.kind as unknown as { value: Change["kind"] }).value;
    return fromModel(`types.${CHANGE_TYPES[kind]}`, option, "output");
  }),
  fromModel("types.pulumi-jit:index:IpPermission", IpPermission, "output"),
  fromModel("types.pulumi-jit:index:IpRange", ipShape.IpRanges, "output"),
  fromModel("types.pulumi-jit:index:Ipv6Range", ipShape.Ipv6Ranges, "output"),
  fromModel("types.pulumi-jit:index:PrefixListId", ipShape.PrefixListIds, "output"),
  fromModel("types.pulumi-jit:index:UserIdGroupPair", ipShape.UserIdGroupPairs, "output"),
  { at: "types.pulumi-jit:index:BaselineRule", properties: [...BASELINE_RULE_KEYS], required: [...BASELINE_RULE_REQUIRED] },
  { at: "types.pulumi-jit:index:VmBaselineStatus", properties: [...VM_STATUS_KEYS], required: [...VM_STATUS_REQUIRED] },
  { at: "types.pulumi-jit:aws:JitRoleTag", properties: [...ROLE_TAG_KEYS], required: [...ROLE_TAG_KEYS] },
  { at: "types.pulumi-jit:aws:IamPolicyDocument", properties: [...IAM_DOCUMENT_KEYS], required: [...IAM_DOCUMENT_KEYS] },
  { at: "types.pulumi-jit:aws:IamStatement", properties: [...IAM_STATEMENT_KEYS], required: [...IAM_STATEMENT_REQUIRED] },
];

const ENUMS: { token: string; values: readonly string[] }[] = [
  { token: "pulumi-jit:index:Cloud", values: Cloud.options },
  { token: "pulumi-jit:index:Protocol", values: Protocol.options },
  { token: "pulumi-jit:index:GrantState", values: GrantState.options },
  { token: "pulumi-jit:index:GrantReason", values: GrantReason.options },
  { token: "pulumi-jit:index:ChangeStatus", values: ChangeStatus.options },
  { token: "pulumi-jit:index:BaselineRuleAction", values: BASELINE_ACTIONS },
  { token: "pulumi-jit:index:BaselineStatus", values: BASELINE_STATUSES },
  { token: "pulumi-jit:index:RoleKind", values: ROLE_KINDS },
];

// Compile-time checks (`npm run lint`): the TypeScript argument interfaces and result types name
// exactly what the tables above say. A `false` here is a type error.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Inputs = typeof POLICY_RESOURCE_INPUTS;
type InputsOf<C extends Cloud> = { [K in keyof Inputs]: C extends Inputs[K][number] ? K : never }[keyof Inputs];
const same = <A, B>(ok: Same<A, B>): boolean => ok;
const TYPE_LEVEL: Record<string, boolean> = {
  "azure.JitPolicy arguments": same<keyof jit.azure.AzureJitPolicyArgs, InputsOf<"azure">>(true),
  "aws.JitPolicy arguments": same<keyof jit.aws.AwsJitPolicyArgs, InputsOf<"aws">>(true),
  "JitPortArgs and PortRule": same<keyof JitPortArgs, keyof z.input<typeof PortRule>>(true),
  "azure VM arguments and PolicyVm": same<keyof jit.azure.AzureJitVirtualMachineArgs, keyof z.input<typeof PolicyVm>>(true),
  "aws instance arguments and PolicyVm": same<keyof jit.aws.AwsJitInstanceArgs, Exclude<keyof z.input<typeof PolicyVm>, "publicIpAddress">>(true),
  "requestAccess arguments": same<keyof jit.RequestAccessArgs, Exclude<keyof AccessRequestInput, "requester"> | "policy">(true),
  "requestAccess result": same<Awaited<ReturnType<typeof jit.requestAccess>>, Grant>(true),
  "BaselineRule keys": same<keyof BaselineRule, (typeof BASELINE_RULE_KEYS)[number]>(true),
  "BaselineRule required": same<RequiredKeys<BaselineRule>, (typeof BASELINE_RULE_REQUIRED)[number]>(true),
  "VmBaselineStatus keys": same<keyof VmBaselineStatus, (typeof VM_STATUS_KEYS)[number]>(true),
  "VmBaselineStatus required": same<RequiredKeys<VmBaselineStatus>, (typeof VM_STATUS_REQUIRED)[number]>(true),
  "BaselineRule actions": same<BaselineRule["action"], (typeof BASELINE_ACTIONS)[number]>(true),
  "VM statuses": same<VmBaselineStatus["status"], (typeof BASELINE_STATUSES)[number]>(true),
  "JitPolicy required arguments": same<RequiredKeys<jit.azure.AzureJitPolicyArgs> | RequiredKeys<jit.aws.AwsJitPolicyArgs>, (typeof POLICY_REQUIRED)[number]>(true),
  "azure.JitRole arguments": same<keyof jit.azure.JitRoleArgs, (typeof JIT_ROLE_INPUTS)[number]>(true),
  "azure.JitRole required arguments": same<RequiredKeys<jit.azure.JitRoleArgs>, (typeof JIT_ROLE_REQUIRED)[number]>(true),
  "aws.JitRolePolicy arguments": same<keyof jit.aws.JitRolePolicyArgs, (typeof JIT_ROLE_POLICY_INPUTS)[number]>(true),
  "aws.JitRolePolicy required arguments": same<RequiredKeys<jit.aws.JitRolePolicyArgs>, (typeof JIT_ROLE_POLICY_REQUIRED)[number]>(true),
  "aws.JitBroker arguments": same<keyof jit.aws.AwsJitBrokerArgs, (typeof AWS_BROKER_INPUTS)[number]>(true),
  "aws.JitBroker required arguments": same<RequiredKeys<jit.aws.AwsJitBrokerArgs>, never>(true),
  "azure.JitBroker arguments": same<keyof jit.azure.AzureJitBrokerArgs, (typeof AZURE_BROKER_INPUTS)[number]>(true),
  "azure.JitBroker required arguments": same<RequiredKeys<jit.azure.AzureJitBrokerArgs>, (typeof AZURE_BROKER_REQUIRED)[number]>(true),
  "aws.JitRolePolicy tag": same<keyof pulumi.Unwrap<NonNullable<jit.aws.JitRolePolicyArgs["tag"]>>, (typeof ROLE_TAG_KEYS)[number]>(true),
  "IamPolicyDocument keys": same<keyof IamPolicyDocument, (typeof IAM_DOCUMENT_KEYS)[number]>(true),
  "IamStatement keys": same<keyof IamStatement, (typeof IAM_STATEMENT_KEYS)[number]>(true),
  "IamStatement required": same<RequiredKeys<IamStatement>, (typeof IAM_STATEMENT_REQUIRED)[number]>(true),
};

// ---------------------------------------------------------------------------------------------
// The checks. Each returns its problems, one sentence each, so that the negative test can show
// that each one catches what it is for.

let validator: ReturnType<Ajv2020["compile"]> | undefined;

function metaschemaProblems(doc: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(METASCHEMA_PATH, "utf8")));
  }
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => {
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return `${e.instancePath || "/"} ${e.message}${extra ? `: "${extra}"` : ""}`;
  });
}

/** Pulumi's built-in types, which any schema may reference. */
const BUILT_IN_REFS = new Set(["pulumi.json#/Any", "pulumi.json#/Archive", "pulumi.json#/Asset", "pulumi.json#/Json"]);

/** Every `$ref` (and discriminator mapping) resolves to a type or resource here; every type is used. */
function refProblems(doc: PackageSchema): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  const resolve = (ref: string, where: string) => {
    if (BUILT_IN_REFS.has(ref)) return;
    const local = /^#\/(types|resources)\/(.+)$/.exec(ref);
    if (!local) {
      problems.push(`${where}: "${ref}" is neither a type of this package nor a Pulumi built-in (this package references no other schema)`);
      return;
    }
    const token = decodeURIComponent(local[2]);
    const table = local[1] === "types" ? doc.types : doc.resources;
    if (!table || !Object.prototype.hasOwnProperty.call(table, token)) {
      problems.push(`${where}: "${ref}" does not resolve: there is no ${local[1] === "types" ? "type" : "resource"} "${token}"`);
    }
    if (local[1] === "types") used.add(token);
  };
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${where}[${i}]`));
    if (node === null || typeof node !== "object") return;
    const spec = node as PropertySpec & Record<string, unknown>;
    if (typeof spec.$ref === "string") resolve(spec.$ref, where);
    if (spec.discriminator?.mapping) {
      const options = (spec.oneOf ?? []).map((o) => o.$ref);
      for (const [value, ref] of Object.entries(spec.discriminator.mapping)) {
        resolve(ref, `${where}.discriminator.mapping.${value}`);
        if (!options.includes(ref)) problems.push(`${where}: discriminator value "${value}" maps to "${ref}", which is not one of the union's types`);
      }
    }
    for (const [key, value] of Object.entries(spec)) if (key !== "discriminator") walk(value, `${where}.${key}`);
  };
  walk(doc, "schema");
  for (const token of Object.keys(doc.types ?? {})) {
    if (!used.has(token)) problems.push(`types.${token} is defined but nothing references it`);
  }
  return problems;
}

/** `required` and `requiredInputs` name declared properties, everywhere. */
function requiredProblems(doc: PackageSchema): string[] {
  const problems: string[] = [];
  const check = (where: string, required: string[] | undefined, properties: Record<string, unknown> | undefined, what: string) => {
    for (const name of required ?? []) {
      if (!properties || !Object.prototype.hasOwnProperty.call(properties, name)) problems.push(`${where}: required "${name}" is not one of its ${what}`);
    }
  };
  for (const [token, r] of Object.entries(doc.resources ?? {})) {
    check(`resources.${token}.requiredInputs`, r.requiredInputs, r.inputProperties, "inputProperties");
    check(`resources.${token}.required`, r.required, r.properties, "properties");
  }
  for (const [token, f] of Object.entries(doc.functions ?? {})) {
    check(`functions.${token}.inputs.required`, f.inputs?.required, f.inputs?.properties, "inputs");
    check(`functions.${token}.outputs.required`, f.outputs?.required, f.outputs?.properties, "outputs");
  }
  for (const [token, t] of Object.entries(doc.types ?? {})) check(`types.${token}.required`, t.required, t.properties, "properties");
  return problems;
}

/** Resources, functions, types and properties all say what they are. */
function descriptionProblems(doc: PackageSchema): string[] {
  const problems: string[] = [];
  const need = (where: string, spec: { description?: string } | undefined) => {
    if (!spec?.description?.trim()) problems.push(`${where} has no description`);
  };
  const props = (where: string, properties: Record<string, PropertySpec> | undefined) =>
    Object.entries(properties ?? {}).forEach(([name, p]) => need(`${where}.${name}`, p));
  for (const [token, r] of Object.entries(doc.resources ?? {})) {
    need(`resources.${token}`, r);
    props(`resources.${token}.inputProperties`, r.inputProperties);
    props(`resources.${token}.properties`, r.properties);
  }
  for (const [token, f] of Object.entries(doc.functions ?? {})) {
    need(`functions.${token}`, f);
    props(`functions.${token}.inputs`, f.inputs?.properties);
    props(`functions.${token}.outputs`, f.outputs?.properties);
  }
  for (const [token, t] of Object.entries(doc.types ?? {})) {
    need(`types.${token}`, t);
    props(`types.${token}`, t.properties);
  }
  return problems;
}

/** What `provider/src/index.ts` exports under a schema token: `index` is the top level, other modules are its namespaces. */
function exportOf(token: string): unknown {
  const { module, name } = splitToken(token);
  const scope = module === "index" ? (jit as Record<string, unknown>) : ((jit as Record<string, unknown>)[module] as Record<string, unknown> | undefined);
  return scope?.[name];
}

function isResourceClass(value: unknown): value is abstract new (...args: never[]) => pulumi.Resource {
  return typeof value === "function" && value.prototype instanceof pulumi.Resource;
}

/**
 * Resources and functions map to the code: each schema resource is an exported resource class with
 * its entry in RESOURCES, whose runtime type token stands for the schema token; each exported
 * resource class is in the schema; the plugin serves each resource (a JitPolicy as a custom
 * resource, a component by Construct) and each function (as an invoke), and nothing else.
 */
function codeProblems(doc: PackageSchema): string[] {
  const problems: string[] = [];
  const resources = doc.resources ?? {};
  for (const token of Object.keys(resources)) {
    const entry = RESOURCES.find((e) => e.token === token);
    const exported = exportOf(token);
    if (!isResourceClass(exported)) {
      problems.push(`resources.${token}: provider/src/index.ts exports no resource class ${splitToken(token).module}.${splitToken(token).name}`);
    } else if (!entry) {
      problems.push(`resources.${token}: no entry in this test's RESOURCES table`);
    } else if (entry.exported !== exported) {
      problems.push(`resources.${token}: the RESOURCES entry names another class than the one exported under this token`);
    }
    if (isResourceClass(exported) && (resources[token].isComponent === true) !== exported.prototype instanceof pulumi.ComponentResource) {
      problems.push(`resources.${token}: isComponent is ${resources[token].isComponent === true}, but the class is ${resources[token].isComponent ? "not " : ""}a component`);
    }
    if (entry && schemaTokenOf(entry.runtimeType) !== token) {
      problems.push(`resources.${token}: the class registers "${entry.runtimeType}", which stands for "${schemaTokenOf(entry.runtimeType)}"`);
    }
    if (splitToken(token).pkg !== doc.name) problems.push(`resources.${token}: not in package "${doc.name}"`);
  }
  for (const entry of RESOURCES) {
    if (!resources[entry.token]) problems.push(`${entry.token} is in the RESOURCES table but not in schema.json`);
  }
  const exportedClasses = new Set<string>();
  for (const [namespace, members] of Object.entries(jit as Record<string, unknown>)) {
    if (members === null || typeof members !== "object") continue;
    for (const [name, member] of Object.entries(members)) {
      if (!isResourceClass(member)) continue;
      const token = `${doc.name}:${namespace}:${name}`;
      exportedClasses.add(`${namespace}.${name}`);
      if (resources[token] && NOT_IN_SCHEMA_YET.includes(`${namespace}.${name}`)) {
        problems.push(`${token} is in schema.json now: move ${namespace}.${name} from NOT_IN_SCHEMA_YET to RESOURCES`);
      } else if (!resources[token] && !NOT_IN_SCHEMA_YET.includes(`${namespace}.${name}`)) {
        problems.push(`provider/src/index.ts exports ${namespace}.${name}, a resource, but schema.json has no "${token}"`);
      }
    }
  }
  for (const pending of NOT_IN_SCHEMA_YET) {
    if (!exportedClasses.has(pending)) problems.push(`NOT_IN_SCHEMA_YET names ${pending}, which provider/src/index.ts does not export as a resource class`);
  }
  const custom = Object.keys(resources).filter((t) => resources[t].isComponent !== true);
  const components = Object.keys(resources).filter((t) => resources[t].isComponent === true);
  problems.push(...setProblem("resources (custom)", "the custom resources the plugin manages", custom, Object.keys(POLICY_TYPES)));
  problems.push(...setProblem("resources (components)", "the components the plugin constructs", components, COMPONENT_TYPES));
  problems.push(...setProblem("functions", "the invokes the plugin serves", Object.keys(doc.functions ?? {}), INVOKE_TOKENS));
  return problems;
}

function setProblem(where: string, what: string, actual: Iterable<string>, expected: Iterable<string>): string[] {
  const a = new Set(actual);
  const e = new Set(expected);
  const extra = [...a].filter((k) => !e.has(k));
  const missing = [...e].filter((k) => !a.has(k));
  if (!extra.length && !missing.length) return [];
  return [
    `${where}: ${what} differ from the code` +
      (missing.length ? `; missing ${missing.map((k) => `"${k}"`).join(", ")}` : "") +
      (extra.length ? `; not in the code ${extra.map((k) => `"${k}"`).join(", ")}` : ""),
  ];
}

function objectAt(doc: PackageSchema, at: string): ObjectSpec | undefined {
  const m = /^(types|functions)\.([^.]+)(?:\.(inputs|outputs))?$/.exec(at);
  if (!m) throw new Error(`bad location ${at}`);
  if (m[1] === "types") return doc.types?.[m[2]];
  return doc.functions?.[m[2]]?.[m[3] as "inputs" | "outputs"];
}

/** Property names, required lists and enum values match the code's models and input lists. */
function propertyProblems(doc: PackageSchema): string[] {
  const problems: string[] = [];
  for (const entry of RESOURCES) {
    const r = doc.resources?.[entry.token];
    if (!r) continue;
    problems.push(...setProblem(`resources.${entry.token}.inputProperties`, "input names", Object.keys(r.inputProperties ?? {}), entry.inputs));
    problems.push(...setProblem(`resources.${entry.token}.requiredInputs`, "required input names", r.requiredInputs ?? [], entry.requiredInputs));
  }
  for (const expected of OBJECT_TYPES) {
    const spec = objectAt(doc, expected.at);
    if (!spec) {
      problems.push(`${expected.at} is missing`);
      continue;
    }
    problems.push(...setProblem(expected.at, "property names", Object.keys(spec.properties ?? {}), expected.properties));
    problems.push(...setProblem(`${expected.at}.required`, "required names", spec.required ?? [], expected.required));
  }
  for (const { token, values } of ENUMS) {
    const spec = doc.types?.[token];
    if (!spec?.enum) problems.push(`types.${token} is missing or not an enum`);
    else problems.push(...setProblem(`types.${token}.enum`, "values", spec.enum.map((v) => String(v.value)), values));
  }
  return problems;
}

/** The provider's configuration, as the schema declares it twice (stack config and explicit provider), is the plugin's. */
function configProblems(doc: PackageSchema): string[] {
  const problems: string[] = [];
  for (const [where, declared] of [
    ["config.variables", doc.config?.variables],
    ["provider.inputProperties", doc.provider?.inputProperties],
  ] as const) {
    problems.push(...setProblem(where, "setting names", Object.keys(declared ?? {}), Object.keys(CONFIG_KEYS)));
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
      const given = declared?.[key];
      if (given && (given.type !== "string" || given.description !== spec.description)) {
        problems.push(`${where}.${key}: must be a string described as CONFIG_KEYS describes it ("${spec.description}")`);
      }
    }
  }
  return problems;
}

function packageProblems(doc: PackageSchema): string[] {
  const problems: string[] = [];
  const expect = (field: string, actual: unknown, wanted: unknown) => {
    if (actual !== wanted) problems.push(`${field} is ${JSON.stringify(actual)}; package.json says ${JSON.stringify(wanted)}`);
  };
  expect("name", doc.name, PACKAGE.name);
  expect("version", doc.version, PACKAGE.version);
  expect("description", doc.description, PACKAGE.description);
  expect("license", doc.license, PACKAGE.license);
  expect("language.nodejs.packageName", doc.language?.nodejs?.packageName, PACKAGE.name);
  if (PACKAGE.repository) {
    const url = typeof PACKAGE.repository === "string" ? PACKAGE.repository : PACKAGE.repository.url;
    expect("repository", doc.repository, url.replace(/^git\+/, "").replace(/\.git$/, ""));
  }
  for (const keyword of PACKAGE.keywords) {
    if (!doc.keywords?.includes(keyword)) problems.push(`keywords lack "${keyword}" from package.json`);
  }
  return problems;
}

function assertNone(problems: string[]): void {
  assert.deepEqual(problems, [], `schema.json:\n  ${problems.join("\n  ")}`);
}

// ---------------------------------------------------------------------------------------------

test("schema.json is valid against Pulumi's package metaschema", () => {
  assertNone(metaschemaProblems(loadSchema()));
});

test("every $ref resolves, and every type is referenced", () => {
  assertNone(refProblems(loadSchema()));
});

test("required names and requiredInputs are declared properties", () => {
  assertNone(requiredProblems(loadSchema()));
});

test("every resource, function, type and property has a description", () => {
  assertNone(descriptionProblems(loadSchema()));
});

test("the provider's configuration is the plugin's, with the same descriptions", () => {
  assertNone(configProblems(loadSchema()));
  const renamed = structuredClone(loadSchema());
  renamed.config!.variables!.ledgerUrl = renamed.config!.variables!.ledger;
  delete renamed.config!.variables!.ledger;
  assert.match(configProblems(renamed).join("\n"), /config\.variables: setting names differ from the code; missing "ledger"; not in the code "ledgerUrl"/);
});

test("the package's name, version, description, license and keywords follow package.json", () => {
  assertNone(packageProblems(loadSchema()));
});

test("resources are exported classes with matching type tokens; the plugin serves every resource and function", () => {
  assert.ok(Object.values(TYPE_LEVEL).every(Boolean));
  assertNone(codeProblems(loadSchema()));
});

test("property names, required lists and enum values match the code", () => {
  assertNone(propertyProblems(loadSchema()));
});

test("each resource class registers its type token and exposes exactly the schema's output properties", async () => {
  const doc = loadSchema();
  for (const entry of RESOURCES) {
    const { result, resources } = await runMockProgram(entry.construct, { runProviders: false, ...(entry.mocks ? { mocks: entry.mocks } : {}) });
    // urn:pulumi:<stack>::<project>::<parent types$…>type::<name>
    const registered = (await outputOf(result.urn)).split("::")[2].split("$").pop();
    assert.equal(registered, entry.runtimeType, `${entry.token}: the registered type token`);
    assert.equal(schemaTokenOf(registered), entry.token);
    // A component also registers its children (a role definition, an IAM policy...): of the resources
    // registered, exactly one is of the entry's type, and it is custom unless the entry is a component.
    const registrations = resources.filter((r) => r.type === entry.runtimeType);
    assert.deepEqual(
      registrations.map((r) => r.custom),
      [doc.resources?.[entry.token]?.isComponent !== true],
      `${entry.token}: registered once, as a ${doc.resources?.[entry.token]?.isComponent ? "component" : "custom resource"}`,
    );
    // Every property the class hands the engine becomes an Output on the instance: that is the
    // resource's output set as a program sees it (less the engine's own: urn, id, the provider text).
    const outputs = Object.keys(result).filter((k) => pulumi.Output.isInstance((result as unknown as Record<string, unknown>)[k]));
    const own = outputs.filter((k) => !["urn", "id", "__provider"].includes(k));
    assertNone(setProblem(`resources.${entry.token}.properties`, "output names", Object.keys(doc.resources?.[entry.token]?.properties ?? {}), own));
  }
});

// The plugin checks inputs against schema.json before the policy model sees them, so the schema
// must never refuse what the model accepts: a type, enum value or property the model gained and the
// schema lacks would make valid programs fail. Inputs are drawn from valid and invalid values of
// every field; whenever the model accepts one, the schema must too.
test("whatever the policy model accepts, schema.json accepts (types, enum values, property names)", () => {
  const doc = loadSchema();
  // Mostly valid values, so that the model accepts a good share of the draws; some invalid ones.
  const pick = (valid: unknown[], invalid: unknown[] = []) =>
    invalid.length ? fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 6 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 }) : fc.constantFrom(...valid);
  const maybe = (arb: fc.Arbitrary<unknown>) => fc.option(arb, { nil: undefined, freq: 2 });
  const port = fc.record(
    {
      number: pick([22, 3389, 5985], [0, 65536, 1.5, "22"]),
      protocol: pick([...Protocol.options], ["ICMP", "tcp", 6]),
      allowedSourceAddressPrefix: maybe(pick(["203.0.113.0/24", "*", "2001:db8::/32", "198.51.100.7"], ["bad", 7])),
      allowedSourceAddressPrefixes: maybe(pick([["203.0.113.0/24", "198.51.100.7"]], [[], "203.0.113.0/24"])),
      maxRequestAccessDuration: maybe(pick(["PT5M", "PT3H", "P1D"], ["P2D", "1h"])),
    },
    { requiredKeys: ["number", "protocol"] },
  );
  const policy = (cloud: Cloud) => {
    const fields: Record<string, fc.Arbitrary<unknown>> = {
      policyName: pick(["web", "db-1"], ["-bad", ""]),
      virtualMachines: fc.array(
        fc.record(
          {
            id: pick([cloud === "azure" ? AZURE_VM_ID : "i-0123456789abcdef0"], ["nope"]),
            ports: fc.uniqueArray(port, { minLength: 1, maxLength: 2, selector: (p) => p.number }),
            ...(cloud === "azure" ? { publicIpAddress: maybe(pick(["198.51.100.4"], ["x"])) } : {}),
          },
          { requiredKeys: ["id", "ports"] },
        ),
        { minLength: 1, maxLength: 1 },
      ),
      requesters: maybe(pick([cloud === "azure" ? ["ana@contoso.com"] : ["arn:aws:iam::123456789012:role/Ops"]], [[""], "ana"])),
      approvers: maybe(pick([cloud === "azure" ? ["00000000-0000-0000-0000-000000000001"] : ["arn:aws:iam::123456789012:role/Lead"]])),
      // The policy model does not look at these two (only the schema types them), so only valid values.
      ...(cloud === "azure" ? { resourceGroupName: maybe(pick(["app"])) } : { allowSharedSecurityGroups: maybe(pick([true, false])) }),
    };
    return fc.record(fields, { requiredKeys: ["policyName", "virtualMachines"] });
  };
  let accepted = 0;
  for (const cloud of Cloud.options) {
    fc.assert(
      fc.property(policy(cloud), (inputs) => {
        const plain = JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
        if (checkPolicyInputs(cloud, plain as unknown as PolicyResourceInputs).failures.length > 0) return;
        accepted++;
        assert.deepEqual(checkResourceInputs(doc, `pulumi-jit:${cloud}:JitPolicy`, plain), [], JSON.stringify(plain));
      }),
      { numRuns: 400, seed: 15 },
    );
  }
  assert.ok(accepted > 50, `the model accepted ${accepted} of the drawn inputs: enough to say something`);

  // A schema that lost an enum value refuses what the model accepts.
  const lost = structuredClone(doc);
  lost.types!["pulumi-jit:index:Protocol"].enum = lost.types!["pulumi-jit:index:Protocol"].enum!.filter((e) => e.value !== "UDP");
  const udp = { policyName: "web", virtualMachines: [{ id: AZURE_VM_ID, ports: [{ number: 53, protocol: "UDP" }] }] };
  assert.deepEqual(checkPolicyInputs("azure", udp as PolicyResourceInputs).failures, []);
  assert.match(checkResourceInputs(lost, "pulumi-jit:azure:JitPolicy", udp).map((f) => f.reason).join(), /must be one of "TCP", "\*", not "UDP"/);
});

test("a broken copy of schema.json is caught by each check", () => {
  const doc = loadSchema();
  const AZURE = "pulumi-jit:azure:JitPolicy";
  const PORT_RULE = "pulumi-jit:index:PortRule";

  const badRef = structuredClone(doc);
  badRef.types![PORT_RULE].properties!.protocol.$ref = "#/types/pulumi-jit:index:Protocl";
  assert.match(refProblems(badRef).join("\n"), /types\.pulumi-jit:index:PortRule\.properties\.protocol: "#\/types\/pulumi-jit:index:Protocl" does not resolve/);

  const unknownKey = structuredClone(doc) as PackageSchema;
  unknownKey.colour = "blue";
  assert.match(metaschemaProblems(unknownKey).join("\n"), /must NOT have additional properties: "colour"/);

  const badRequired = structuredClone(doc);
  badRequired.resources![AZURE].requiredInputs!.push("vmIds");
  badRequired.types![PORT_RULE].required!.push("port");
  const required = requiredProblems(badRequired).join("\n");
  assert.match(required, /resources\.pulumi-jit:azure:JitPolicy\.requiredInputs: required "vmIds" is not one of its inputProperties/);
  assert.match(required, /types\.pulumi-jit:index:PortRule\.required: required "port" is not one of its properties/);

  const drifted = structuredClone(doc);
  const rule = drifted.types![PORT_RULE].properties!;
  rule.maxDuration = rule.maxRequestAccessDuration;
  delete rule.maxRequestAccessDuration;
  drifted.resources![AZURE].inputProperties!.allowSharedSecurityGroups = { type: "boolean", description: "not on Azure" };
  drifted.resources!["pulumi-jit:aws:JitRolePolicy"].requiredInputs!.push("role");
  const properties = propertyProblems(drifted).join("\n");
  assert.match(properties, /PortRule: property names differ from the code; missing "maxRequestAccessDuration"; not in the code "maxDuration"/);
  assert.match(properties, /azure:JitPolicy\.inputProperties: input names differ from the code; not in the code "allowSharedSecurityGroups"/);
  assert.match(properties, /aws:JitRolePolicy\.requiredInputs: required input names differ from the code; not in the code "role"/);

  const unmapped = structuredClone(doc);
  unmapped.resources!["pulumi-jit:azure:JitNothing"] = { description: "no such class" };
  unmapped.functions!["pulumi-jit:index:listGrant"] = unmapped.functions!["pulumi-jit:index:listGrants"];
  const code = codeProblems(unmapped).join("\n");
  assert.match(code, /resources\.pulumi-jit:azure:JitNothing: provider\/src\/index\.ts exports no resource class azure\.JitNothing/);
  assert.match(code, /functions: the invokes the plugin serves differ from the code; not in the code "pulumi-jit:index:listGrant"/);
  assert.match(code, /resources \(custom\): the custom resources the plugin manages differ from the code; not in the code "pulumi-jit:azure:JitNothing"/);
  const notComponent = structuredClone(doc);
  delete notComponent.resources!["pulumi-jit:azure:JitRole"].isComponent;
  notComponent.resources![AZURE].isComponent = true;
  const kinds = codeProblems(notComponent).join("\n");
  assert.match(kinds, /resources\.pulumi-jit:azure:JitRole: isComponent is false, but the class is a component/);
  assert.match(kinds, /resources\.pulumi-jit:azure:JitPolicy: isComponent is true, but the class is not a component/);
  const missing = structuredClone(doc);
  delete missing.resources![AZURE];
  assert.match(codeProblems(missing).join("\n"), /exports azure\.JitPolicy, a resource, but schema\.json has no "pulumi-jit:azure:JitPolicy"/);

  const undescribed = structuredClone(doc);
  delete undescribed.types![PORT_RULE].properties!.number.description;
  assert.match(descriptionProblems(undescribed).join("\n"), /types\.pulumi-jit:index:PortRule\.number has no description/);

  const renamed = structuredClone(doc);
  renamed.version = "9.9.9";
  assert.match(packageProblems(renamed).join("\n"), /version is "9\.9\.9"; package\.json says /);
});
