// Drives the pulumi-jit provider plugin as the Pulumi engine does: spawns it with an engine address,
// reads its port from stdout, and calls it over gRPC with @pulumi/pulumi's own protocol classes. A
// fake engine and resource monitor (one gRPC server on 127.0.0.1) stand in for the engine's side
// of Construct: components register their children with the monitor, which records each call.
import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { call, connectProvider, stop, structToJs } from "../support/pulumi/provider-host";
import { PropertyMap, Struct, sdkRequire } from "../support/pulumi/wire";

export const ROOT = path.resolve(__dirname, "..", "..");
export const PLUGIN_BIN = path.join(ROOT, "bin", "pulumi-resource-pulumi-jit");
export const PROJECT = "project";
export const STACK = "stack";

const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");
const { ResourceMonitorService } = sdkRequire("@pulumi/pulumi/proto/resource_grpc_pb") as { ResourceMonitorService: grpc.ServiceDefinition };
const { EngineService } = sdkRequire("@pulumi/pulumi/proto/engine_grpc_pb") as { EngineService: grpc.ServiceDefinition };

export function urnOf(type: string, name: string, parentType?: string): string {
  return `urn:pulumi:${STACK}::${PROJECT}::${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

const struct = (props: PropertyMap) => Struct.fromJavaScript(props as never);

export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  object: PropertyMap;
}

/** The engine's side of Construct: an engine (logs) and a resource monitor that records registrations. */
export interface FakeEngine {
  readonly address: string;
  readonly registrations: Registration[];
  readonly logs: string[];
  close(): Promise<void>;
}

export async function startFakeEngine(): Promise<FakeEngine> {
  const registrations: Registration[] = [];
  const logs: string[] = [];
  const server = new grpc.Server();
  const typeOfUrn = (urn: string) => urn.split("::")[2];
  const unary = <Req, Res>(handle: (req: Req) => Res) => (c: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => cb(null, handle(c.request));
  server.addService(ResourceMonitorService, {
    supportsFeature: unary(() => new resproto.SupportsFeatureResponse().setHassupport(true)),
    registerResource: unary((req: resproto.RegisterResourceRequest) => {
      const object = structToJs(req.getObject());
      const parent = req.getParent();
      registrations.push({ type: req.getType(), name: req.getName(), custom: req.getCustom(), parent, object });
      const urn = urnOf(req.getType(), req.getName(), parent && !parent.includes("pulumi:pulumi:Stack") ? typeOfUrn(parent) : undefined);
      const resp = new resproto.RegisterResourceResponse().setUrn(urn).setObject(struct(object));
      // A custom resource gets an id (and, like a real apply, its outputs are its inputs).
      if (req.getCustom()) resp.setId(`${req.getName()}-id`);
      return resp;
    }),
    registerResourceOutputs: unary(() => new Empty()),
  });
  server.addService(EngineService, {
    log: unary((req: { getMessage(): string }) => {
      logs.push(req.getMessage());
      return new Empty();
    }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    registrations,
    logs,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export interface DiffAnswer {
  changes: "unknown" | "none" | "some";
  replaces: string[];
  diffs: string[];
  detailed: Record<string, string>;
  deleteBeforeReplace: boolean;
}

const KIND_NAMES = Object.fromEntries(Object.entries(proto.PropertyDiff.Kind).map(([name, value]) => [value, name])) as Record<number, string>;
const CHANGES = ["unknown", "none", "some"] as const;

/** The spawned plugin and the calls the engine makes of it. */
export interface Plugin {
  readonly client: ResourceProviderClient;
  stderr(): string;
  pluginInfo(): Promise<string>;
  schema(): Promise<string>;
  checkConfig(news: PropertyMap): Promise<{ inputs: PropertyMap; failures: { property: string; reason: string }[] }>;
  /** Configure as current engines send it (`args`), or as older ones do (`variables`: `pulumi-jit:config:<key>` strings). */
  configure(args: PropertyMap, as?: "args" | "variables"): Promise<{ acceptSecrets: boolean; acceptResources: boolean }>;
  diffConfig(olds: PropertyMap, news: PropertyMap): Promise<{ changes: DiffAnswer["changes"]; diffs: string[] }>;
  check(urn: string, news: PropertyMap, olds?: PropertyMap): Promise<{ inputs: PropertyMap; failures: { property: string; reason: string }[] }>;
  diff(urn: string, id: string, olds: PropertyMap, news: PropertyMap): Promise<DiffAnswer>;
  create(urn: string, properties: PropertyMap): Promise<{ id: string; properties: PropertyMap }>;
  read(urn: string, id: string, properties?: PropertyMap): Promise<{ id: string; properties: PropertyMap; inputs: PropertyMap }>;
  update(urn: string, id: string, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap>;
  delete(urn: string, id: string, properties: PropertyMap): Promise<void>;
  invoke(token: string, args: PropertyMap): Promise<{ outputs: PropertyMap; failures: { property: string; reason: string }[] }>;
  construct(engine: FakeEngine, type: string, name: string, inputs: PropertyMap): Promise<{ urn: string; state: PropertyMap }>;
  close(): Promise<void>;
}

export interface PluginOptions {
  /** Added to the environment (credentials, as a deployment would give them). */
  env?: Record<string, string>;
  /** The engine address the plugin is started with. */
  engine?: string;
  /** The program to run instead of the checkout's bin (the built package's, for instance). */
  command?: string[];
}

const START_TIMEOUT_MS = 30_000;

export async function startPlugin(options: PluginOptions = {}): Promise<Plugin> {
  const command = options.command ?? [PLUGIN_BIN];
  // The engine's own flags ride along; the SDK must strip them.
  const child: ChildProcess = spawn(process.execPath, [...command, "--logtostderr", "-v=9", options.engine ?? "127.0.0.1:1"], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { client, stderr } = await connectProvider(child, START_TIMEOUT_MS);
  const failuresOf = (list: proto.CheckFailure[]) => list.map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
  return {
    client,
    stderr,
    async pluginInfo() {
      return (await call<{ getVersion(): string }>("GetPluginInfo", (cb) => client.getPluginInfo(new Empty(), cb as never))).getVersion();
    },
    async schema() {
      return (await call<proto.GetSchemaResponse>("GetSchema", (cb) => client.getSchema(new proto.GetSchemaRequest(), cb))).getSchema();
    },
    async checkConfig(news) {
      const req = new proto.CheckRequest().setUrn(urnOf("pulumi:providers:pulumi-jit", "default")).setOlds(struct({})).setNews(struct(news));
      const resp = await call<proto.CheckResponse>("CheckConfig", (cb) => client.checkConfig(req, cb));
      return { inputs: structToJs(resp.getInputs()), failures: failuresOf(resp.getFailuresList()) };
    },
    async configure(args, as = "args") {
      const req = new proto.ConfigureRequest().setAcceptsecrets(true).setAcceptresources(true);
      if (as === "args") req.setArgs(struct(args));
      else for (const [key, value] of Object.entries(args)) req.getVariablesMap().set(`pulumi-jit:config:${key}`, String(value));
      const resp = await call<proto.ConfigureResponse>("Configure", (cb) => client.configure(req, cb));
      return { acceptSecrets: resp.getAcceptsecrets(), acceptResources: resp.getAcceptresources() };
    },
    async diffConfig(olds, news) {
      const req = new proto.DiffRequest().setUrn(urnOf("pulumi:providers:pulumi-jit", "default")).setOlds(struct(olds)).setOldInputs(struct(olds)).setNews(struct(news));
      const resp = await call<proto.DiffResponse>("DiffConfig", (cb) => client.diffConfig(req, cb));
      return { changes: CHANGES[resp.getChanges()], diffs: resp.getDiffsList() };
    },
    async check(urn, news, olds = {}) {
      const req = new proto.CheckRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news));
      const resp = await call<proto.CheckResponse>("Check", (cb) => client.check(req, cb));
      return { inputs: structToJs(resp.getInputs()), failures: failuresOf(resp.getFailuresList()) };
    },
    async diff(urn, id, olds, news) {
      const req = new proto.DiffRequest().setUrn(urn).setId(id).setOlds(struct(olds)).setNews(struct(news));
      const resp = await call<proto.DiffResponse>("Diff", (cb) => client.diff(req, cb));
      const detailed: Record<string, string> = {};
      resp.getDetaileddiffMap().forEach((d: proto.PropertyDiff, key: string) => (detailed[key] = KIND_NAMES[d.getKind()]));
      return {
        changes: CHANGES[resp.getChanges()],
        replaces: resp.getReplacesList(),
        diffs: resp.getDiffsList(),
        detailed,
        deleteBeforeReplace: resp.getDeletebeforereplace(),
      };
    },
    async create(urn, properties) {
      const req = new proto.CreateRequest().setUrn(urn).setProperties(struct(properties));
      const resp = await call<proto.CreateResponse>("Create", (cb) => client.create(req, cb));
      return { id: resp.getId(), properties: structToJs(resp.getProperties()) };
    },
    async read(urn, id, properties = {}) {
      const req = new proto.ReadRequest().setUrn(urn).setId(id).setProperties(struct(properties));
      const resp = await call<proto.ReadResponse>("Read", (cb) => client.read(req, cb));
      return { id: resp.getId(), properties: structToJs(resp.getProperties()), inputs: structToJs(resp.getInputs()) };
    },
    async update(urn, id, olds, news) {
      const req = new proto.UpdateRequest().setUrn(urn).setId(id).setOlds(struct(olds)).setNews(struct(news));
      return structToJs((await call<proto.UpdateResponse>("Update", (cb) => client.update(req, cb))).getProperties());
    },
    async delete(urn, id, properties) {
      const req = new proto.DeleteRequest().setUrn(urn).setId(id).setProperties(struct(properties));
      await call("Delete", (cb) => client.delete(req, cb as never));
    },
    async invoke(token, args) {
      const req = new proto.InvokeRequest().setTok(token).setArgs(struct(args));
      const resp = await call<proto.InvokeResponse>("Invoke", (cb) => client.invoke(req, cb));
      return { outputs: structToJs(resp.getReturn()), failures: failuresOf(resp.getFailuresList()) };
    },
    async construct(engine, type, name, inputs) {
      const req = new proto.ConstructRequest()
        .setProject(PROJECT)
        .setStack(STACK)
        .setParallel(1)
        .setDryrun(false)
        .setMonitorendpoint(engine.address)
        .setType(type)
        .setName(name)
        .setInputs(struct(inputs))
        .setAcceptsOutputValues(true);
      const resp = await call<proto.ConstructResponse>("Construct", (cb) => client.construct(req, cb));
      return { urn: resp.getUrn(), state: structToJs(resp.getState()) };
    },
    async close() {
      client.close();
      await stop(child);
    },
  };
}
