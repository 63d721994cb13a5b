// Runs a Pulumi program in-process under `pulumi.runtime.setMocks`, with a mock that does for dynamic
// resources what the engine and the dynamic-provider host would: rebuild the provider from the
// `__provider` text, configure it with the stack configuration, strip secrets, call check() and then
// create() (or, in preview, hand back the checked inputs), re-mark secret outputs, and apply
// `additionalSecretOutputs`. Every registration is recorded for assertions.
//
// `setMocks` replaces process-wide state. Run one program at a time: each `runMockProgram` starts a
// fresh one (new mocks, configuration and provider cache) and returns only once all of the program's
// registrations have finished, so sequential tests in one file are isolated. Do not run mock programs
// concurrently (no `{ concurrency }` on these tests); node's test runner already gives each test file
// its own process.
import * as pulumi from "@pulumi/pulumi";
import { Config } from "@pulumi/pulumi/cmd/dynamic-provider/config";
import type { RegisterResourceRequest, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
import { DynamicProvider, reloadProvider } from "./serialization";
import {
  PROVIDER_KEY,
  PropertyMap,
  Struct,
  UNKNOWN,
  annotateSecrets,
  isSecretWrapper,
  stripSecrets,
  throughWire,
  wrapSecret,
} from "./wire";

export interface MockProgramOptions {
  project?: string;
  stack?: string;
  /** Run as `pulumi preview`: providers are checked but not created, and their outputs are unknown. */
  preview?: boolean;
  /**
   * Stack configuration with namespaced keys (`project:key`). The program's `pulumi.Config` reads it,
   * and, as under the engine, every provider's `configure()` receives all of it.
   */
  config?: Record<string, string>;
  /**
   * Run each dynamic resource's provider as the engine would (the default). With `false` no provider
   * code runs and dynamic resources are answered like any other resource (see `mocks`): for programs
   * checked for what they register, not for what their providers do.
   */
  runProviders?: boolean;
  /**
   * Answers for what the harness does not emulate itself. `newResource` answers every registration
   * that is not a dynamic resource whose provider runs (default: id `<name>-id` for custom resources,
   * outputs = inputs); `call` answers the program's function calls (default: fail, naming the function).
   */
  mocks?: Partial<pulumi.runtime.Mocks>;
}

export interface RegisteredResource {
  type: string;
  name: string;
  custom: boolean;
  /** As the program sent them: secret wrappers, unknowns as the sentinel string, and `__provider`. */
  inputs: PropertyMap;
  /** Undefined in preview and for components. */
  id: string | undefined;
  /** The outputs as the engine would store them, secret wrappers included. */
  state: PropertyMap;
}

export interface MockProgramRun<T> {
  /** What the program returned. */
  result: T;
  resources: RegisteredResource[];
}

export interface OutputDetails<T> {
  known: boolean;
  secret: boolean;
  /** Undefined when the output is not known (preview). */
  value: T | undefined;
}

// Members of Output that the SDK keeps off its public typings; stable across 3.x.
interface OutputInternals<T> {
  isKnown: Promise<boolean>;
  promise(): Promise<T>;
}

interface RecordingMonitor {
  registerResource(
    req: RegisterResourceRequest,
    callback: (err: Error | null, resp?: RegisterResourceResponse) => void,
  ): Promise<void>;
}

/**
 * Runs `program` against mocks that emulate the engine for dynamic resources, and waits for all of its
 * registrations. Rejects with the first registration that failed (a failed check, a throwing create),
 * as a deployment stops at its first failed step. Other resource types (components, for instance) are
 * recorded and echo their inputs.
 */
export async function runMockProgram<T>(
  program: () => T | Promise<T>,
  options: MockProgramOptions = {},
): Promise<MockProgramRun<T>> {
  const project = options.project ?? "project";
  const preview = options.preview ?? false;
  const config = options.config ?? {};
  // One host per deployment: a provider is rebuilt and configured once per distinct text.
  const providers = new Map<string, Promise<DynamicProvider>>();
  const loadProvider = (text: string) => {
    let provider = providers.get(text);
    if (!provider) {
      provider = (async () => {
        const loaded = reloadProvider(text);
        await loaded.configure?.({ config: new Config(config, project) });
        return loaded;
      })();
      providers.set(text, provider);
    }
    return provider;
  };

  const newResource = async (args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> => {
    const label = `${args.type} "${args.name}"`;
    if (!args.type.startsWith("pulumi-nodejs:dynamic") || options.runProviders === false) {
      if (options.mocks?.newResource) return options.mocks.newResource(args);
      return { id: args.custom ? `${args.name}-id` : undefined, state: args.inputs };
    }
    if (args.id) throw new Error(`${label}: reading or importing an existing dynamic resource is not emulated`);

    const { plain, secretKeys } = stripSecrets(asSent(args.inputs) as PropertyMap);
    const text = plain[PROVIDER_KEY];
    if (typeof text !== "string") throw new Error(`${label}: no serialised provider in ${PROVIDER_KEY}`);
    const provider = await loadProvider(text);

    const news = throughWire(plain, `${label} inputs`);
    const checkResult = provider.check ? await provider.check({}, news) : {};
    const failures = checkResult.failures ?? [];
    if (failures.length > 0) {
      throw new Error(`${label}: check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    }
    const checked = throughWire({ ...(checkResult.inputs ?? news), [PROVIDER_KEY]: text }, `${label} checked inputs`);
    // A provider without preview support is not asked to create during preview: the engine stores the
    // checked inputs, so every output that is not also an input is unknown to the program.
    if (preview) return { id: undefined, state: annotateSecrets(checked, secretKeys) };

    const created = await provider.create(checked);
    if (typeof created.id !== "string" || created.id === "") throw new Error(`${label}: create returned an empty id`);
    const outs = throughWire({ ...(created.outs ?? {}), [PROVIDER_KEY]: text }, `${label} outputs`);
    return { id: created.id, state: annotateSecrets(outs, secretKeys) };
  };

  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource,
      call:
        options.mocks?.call ??
        ((args) => {
          throw new Error(`no function is mocked: ${args.token}`);
        }),
    },
    project,
    options.stack ?? "stack",
    preview,
  );

  const resources: RegisteredResource[] = [];
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  recordRegistrations(resources, (err) => fail(new Error(`the program failed: ${err.message}`)));
  const run = async () => {
    const result = await program();
    await waitForRegistrations();
    return result;
  };
  return { result: await Promise.race([run(), failed]), resources };
}

/** Resolves to the output's value; rejects if it is unknown (as in preview). */
export async function outputOf<T>(output: pulumi.Output<T>): Promise<T> {
  const details = await outputDetails(output);
  if (!details.known) throw new Error("the output is unknown (preview); use outputDetails to inspect it");
  return details.value as T;
}

/** Whether the output is known and secret, and its value when known. */
export async function outputDetails<T>(output: pulumi.Output<T>): Promise<OutputDetails<T>> {
  const internals = output as unknown as OutputInternals<T>;
  const [known, secret, value] = await Promise.all([internals.isKnown, pulumi.isSecret(output), internals.promise()]);
  return { known, secret, value: known ? value : undefined };
}

// The mock monitor drops the registration options; `additionalSecretOutputs` is applied by the engine,
// so it is applied here, on the monitor's response, where the request is still at hand.
//
// A failed registration is reported through `onFailure` and never answered: the engine stops a
// deployment at a failed step, whereas answering with the error would make the SDK reject each of the
// resource's outputs with nothing listening, i.e. a burst of unhandled rejections in the test.
function recordRegistrations(resources: RegisteredResource[], onFailure: (err: Error) => void): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as RecordingMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, resp) => {
      if (err || !resp) {
        onFailure(err ?? new Error(`${req.getType()} "${req.getName()}": no response`));
        return;
      }
      const state = resp.getObject()?.toJavaScript() ?? {};
      for (const key of req.getAdditionalsecretoutputsList()) {
        if (key in state && !isSecretWrapper(state[key])) state[key] = wrapSecret(state[key]);
      }
      resp.setObject(Struct.fromJavaScript(state));
      resources.push({
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        inputs: req.getObject()?.toJavaScript() ?? {},
        id: resp.getId() || undefined,
        state,
      });
      callback(null, resp);
    });
}

function waitForRegistrations(): Promise<void> {
  // The SDK's own wait for outstanding resource RPCs (what it does before a program exits); present
  // at runtime on `pulumi.runtime`, though kept off the typings.
  const { waitForRPCs } = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (typeof waitForRPCs !== "function") throw new Error("this @pulumi/pulumi has no runtime.waitForRPCs");
  return waitForRPCs();
}

/** The mock monitor hands unknowns over as the SDK's `unknown` object; the engine sends the sentinel string. */
function asSent(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(asSent);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asSent(v)]));
  }
  return value;
}
