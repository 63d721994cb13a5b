// Starts @pulumi/pulumi's own dynamic-provider host (the process the engine starts to run dynamic
// resources) and drives it over gRPC the way the engine does: Configure first, then Check, Diff, Create,
// Read, Update and Delete with the serialised provider in `__provider`. Only loopback is used.
import { ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import * as grpc from "@grpc/grpc-js";
import type * as pulumi from "@pulumi/pulumi";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import { DynamicProvider, serializeProvider } from "./serialization";
import { PROVIDER_KEY, PropertyMap, sdkRequire, stripSecrets, toStruct } from "./wire";

export interface HostOptions {
  project?: string;
  stack?: string;
  /** Whether the host is started for a preview (`pulumi preview`) rather than an update. */
  preview?: boolean;
  /**
   * The host's working directory. The engine starts it in the project root, and the provider's
   * `require` calls resolve from there. Defaults to `process.cwd()`.
   */
  cwd?: string;
  /** Added to the environment the host inherits (SDK endpoints or regions, for instance). */
  env?: Record<string, string>;
  /**
   * Node options for the host process, before its script: `process.execArgv` lets it load
   * TypeScript sources through the same loader and export conditions as the test.
   */
  nodeArgs?: string[];
}

export interface DynamicProviderHost {
  readonly port: number;
  /**
   * Sends the stack configuration (namespaced keys, `project:key`; values may be secret-wrapped, see
   * `wrapSecret`). The engine always configures a provider before any other call; the host hands this
   * to each provider's `configure()` once, before the provider's first use.
   */
  configure(config: PropertyMap): Promise<{ acceptSecrets: boolean }>;
  /** Serialises `provider` (or takes serialised text) for use as `__provider` in calls to this host. */
  bind(provider: DynamicProvider | string): Promise<HostedProvider>;
  /** Everything the host wrote to stderr; it logs the errors of check, diff, read and delete there. */
  stderr(): string;
  /** Stops the host. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * The calls the engine makes for one dynamic resource. `__provider` is added to the new inputs
 * (`news`, create's properties), which a program always sends with it. Stored state (`olds`, read's
 * and delete's properties) goes as given: pass what the host returned, which carries `__provider`, as
 * the engine's stored outputs do. Secrets are unwrapped first, as the engine does for a provider that
 * does not accept them.
 */
export interface HostedProvider {
  readonly text: string;
  check(olds: PropertyMap, news: PropertyMap): Promise<{ inputs: PropertyMap; failures: pulumi.dynamic.CheckFailure[] }>;
  diff(id: string, olds: PropertyMap, news: PropertyMap): Promise<HostDiff>;
  create(properties: PropertyMap): Promise<{ id: string; properties: PropertyMap }>;
  read(id: string, properties: PropertyMap): Promise<{ id: string; properties: PropertyMap; inputs?: PropertyMap }>;
  update(id: string, olds: PropertyMap, news: PropertyMap): Promise<{ properties: PropertyMap }>;
  delete(id: string, properties: PropertyMap): Promise<void>;
}

export interface HostDiff {
  changes: "some" | "none" | "unknown";
  replaces: string[];
  stables: string[];
  deleteBeforeReplace: boolean;
}

/** Created-but-failed-to-initialise details, which the engine records as a partially created resource. */
export interface InitFailure {
  id: string;
  properties: PropertyMap;
  reasons: string[];
}

/** A call the host answered with a gRPC error. */
export class HostCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
    readonly initFailure?: InitFailure,
  ) {
    super(`${method}: ${details}`);
    this.name = "HostCallError";
  }
}

// The host starts in about a second; this only bounds a host that hangs.
const START_TIMEOUT_MS = 30_000;

const DIFF_CHANGES: Record<proto.DiffResponse.DiffChanges, HostDiff["changes"]> = {
  [proto.DiffResponse.DiffChanges.DIFF_UNKNOWN]: "unknown",
  [proto.DiffResponse.DiffChanges.DIFF_NONE]: "none",
  [proto.DiffResponse.DiffChanges.DIFF_SOME]: "some",
};

export async function startDynamicProviderHost(options: HostOptions = {}): Promise<DynamicProviderHost> {
  const project = options.project ?? "project";
  const stack = options.stack ?? "stack";
  const dryRun = String(options.preview ?? false);
  // The host's one argument is the engine's address; it requires one but never dials it.
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), require.resolve("@pulumi/pulumi/cmd/dynamic-provider"), "127.0.0.1:0"], {
    cwd: options.cwd ?? process.cwd(),
    // What the engine sets for a Node.js plugin, on top of the inherited environment.
    env: {
      ...process.env,
      PULUMI_NODEJS_PROJECT: project,
      PULUMI_NODEJS_STACK: stack,
      PULUMI_NODEJS_DRY_RUN: dryRun,
      PULUMI_PROJECT: project,
      PULUMI_STACK: stack,
      PULUMI_DRY_RUN: dryRun,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { client, port, stderr } = await connectProvider(child, START_TIMEOUT_MS);
  let acceptSecrets: boolean | undefined;
  // What the engine sends: plaintext when the host refused secrets.
  const send = (props: PropertyMap, label: string) =>
    toStruct(acceptSecrets ? props : stripSecrets(props).plain, label);

  const bind = async (provider: DynamicProvider | string): Promise<HostedProvider> => {
    if (acceptSecrets === undefined) {
      throw new Error("configure() first: the engine always configures a provider before any other call");
    }
    const text = typeof provider === "string" ? provider : (await serializeProvider(provider)).text;
    const withProvider = (props: PropertyMap) => ({ ...props, [PROVIDER_KEY]: text });
    return {
      text,
      async check(olds, news) {
        const req = new proto.CheckRequest().setOlds(send(olds, "olds")).setNews(send(withProvider(news), "news"));
        const resp = await call<proto.CheckResponse>("Check", (cb) => client.check(req, cb));
        return {
          inputs: structToJs(resp.getInputs()),
          failures: resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
      },
      async diff(id, olds, news) {
        const req = new proto.DiffRequest()
          .setId(id)
          .setOlds(send(olds, "olds"))
          .setNews(send(withProvider(news), "news"));
        const resp = await call<proto.DiffResponse>("Diff", (cb) => client.diff(req, cb));
        return {
          changes: DIFF_CHANGES[resp.getChanges()],
          replaces: resp.getReplacesList(),
          stables: resp.getStablesList(),
          deleteBeforeReplace: resp.getDeletebeforereplace(),
        };
      },
      async create(properties) {
        const req = new proto.CreateRequest().setProperties(send(withProvider(properties), "properties"));
        const resp = await call<proto.CreateResponse>("Create", (cb) => client.create(req, cb));
        return { id: resp.getId(), properties: structToJs(resp.getProperties()) };
      },
      async read(id, properties) {
        const req = new proto.ReadRequest().setId(id).setProperties(send(properties, "properties"));
        const resp = await call<proto.ReadResponse>("Read", (cb) => client.read(req, cb));
        const inputs = resp.getInputs();
        return {
          id: resp.getId(),
          properties: structToJs(resp.getProperties()),
          ...(inputs ? { inputs: structToJs(inputs) } : {}),
        };
      },
      async update(id, olds, news) {
        const req = new proto.UpdateRequest()
          .setId(id)
          .setOlds(send(olds, "olds"))
          .setNews(send(withProvider(news), "news"));
        const resp = await call<proto.UpdateResponse>("Update", (cb) => client.update(req, cb));
        return { properties: structToJs(resp.getProperties()) };
      },
      async delete(id, properties) {
        const req = new proto.DeleteRequest().setId(id).setProperties(send(properties, "properties"));
        await call("Delete", (cb) => client.delete(req, cb));
      },
    };
  };

  return {
    port,
    async configure(config) {
      const req = new proto.ConfigureRequest()
        .setArgs(toStruct(config, "config"))
        .setAcceptsecrets(true)
        .setAcceptresources(true);
      const resp = await call<proto.ConfigureResponse>("Configure", (cb) => client.configure(req, cb));
      acceptSecrets = resp.getAcceptsecrets();
      return { acceptSecrets };
    },
    bind,
    stderr,
    async close() {
      client.close();
      await stop(child);
    },
  };
}

/** The host prints its port on the first line of stdout once it listens. */
/**
 * A gRPC client of the provider process `child` once it has announced its port, and what it has
 * written to stderr so far; a process that does not announce in time is stopped.
 */
export async function connectProvider(child: ChildProcess, timeoutMs: number): Promise<{ client: ResourceProviderClient; port: number; stderr: () => string }> {
  let text = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  const stderr = () => text;
  let port: number;
  try {
    port = await announcedPort(child, timeoutMs, stderr);
  } catch (err) {
    await stop(child);
    throw err;
  }
  return { client: new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()), port, stderr };
}

export async function announcedPort(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => fail(`no port announced within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`the provider process did not start: ${why}\n${stderr()}`));
    };
    child.once("error", (err) => fail(err.message));
    child.once("exit", (code, signal) => fail(`it exited (${signal ?? code})`));
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n") && /^\d+$/.test(line.trim())) {
        clearTimeout(timer);
        resolve(Number(line.trim()));
      }
    });
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

export function call<T>(method: string, invoke: (cb: (err: grpc.ServiceError | null, resp: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    invoke((err, resp) => {
      if (err) reject(new HostCallError(method, err.code, err.details, initFailureOf(err)));
      else resolve(resp);
    });
  });
}

export function structToJs(struct: ReturnType<proto.CreateResponse["getProperties"]>): PropertyMap {
  return (struct?.toJavaScript() ?? {}) as PropertyMap;
}

// The SDK's status message has no typings; only what is read here is declared.
interface StatusMessage {
  getDetailsList(): Array<{ getTypeName(): string; getValue_asU8(): Uint8Array }>;
}
const { Status } = sdkRequire("@pulumi/pulumi/proto/status_pb") as {
  Status: { deserializeBinary(bytes: Uint8Array): StatusMessage };
};

/** The host packs "created but failed to initialise" into the `grpc-status-details-bin` trailer. */
function initFailureOf(err: grpc.ServiceError): InitFailure | undefined {
  const [bin] = err.metadata?.get("grpc-status-details-bin") ?? [];
  if (!(bin instanceof Buffer)) return undefined;
  for (const detail of Status.deserializeBinary(bin).getDetailsList()) {
    if (detail.getTypeName() !== "pulumirpc.ErrorResourceInitFailed") continue;
    const failure = proto.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
    return { id: failure.getId(), properties: structToJs(failure.getProperties()), reasons: failure.getReasonsList() };
  }
  return undefined;
}
