import { createRequire } from "node:module";
import type * as grpc from "@grpc/grpc-js";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import { main } from "@pulumi/pulumi/provider/server";
import { errorMessage, isJitError } from "../model/errors";
import { applyConfig, checkConfig, requireValidConfig } from "./config";
import { diffPolicy, jitProvider } from "./provider";
import { isUnknown, unwrapSecrets } from "./secrets";

/**
 * The plugin's gRPC server is @pulumi/pulumi's own (`pulumi.provider.main`): it serves
 * GetPluginInfo, GetSchema, Check, Create (with the partial-state error), Read, Update, Delete,
 * Invoke and Construct (running components against the engine's resource monitor) from a
 * `Provider` object. Four calls it does not serve as a native provider must, so the plugin answers
 * them itself on the same service:
 *
 * - CheckConfig and DiffConfig, which the SDK leaves unimplemented;
 * - Configure, which the SDK answers without looking at the configuration;
 * - Diff, whose SDK version drops detailed diffs (the per-property view `pulumi preview --diff`
 *   shows and that replacements are explained by).
 *
 * The SDK exports no way to add to its service, so the methods are layered over its implementation
 * as it is registered (`addService`), once, for the one server `main` starts. Messages and the
 * gRPC library are the SDK's own copies, so that every message serialises as the SDK's do.
 */
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi/provider/server"));
const grpcJs = sdkRequire("@grpc/grpc-js") as typeof grpc;
const { ResourceProviderService } = sdkRequire("../proto/provider_grpc_pb") as { ResourceProviderService: grpc.ServiceDefinition };
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb") as typeof import("google-protobuf/google/protobuf/struct_pb");

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;
type PropertyMap = Record<string, unknown>;

const CONFIG_PREFIX = "pulumi-jit:config:";

/** Answers a unary call from an async function; a JitError naming a field becomes INVALID_ARGUMENT. */
function unary<Req, Res>(work: (req: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    work(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const message = errorMessage(err);
        callback({ code: isJitError(err) ? grpcJs.status.INVALID_ARGUMENT : grpcJs.status.UNKNOWN, details: message, name: "Error", message, metadata: new grpcJs.Metadata() });
      },
    );
  };
}

function struct(value: PropertyMap): InstanceType<typeof Struct> {
  return Struct.fromJavaScript(value as never);
}

function toJs(s: { toJavaScript(): unknown } | undefined): PropertyMap {
  return (s?.toJavaScript() ?? {}) as PropertyMap;
}

function failures(list: { property: string; reason: string }[]): proto.CheckFailure[] {
  return list.map((f) => new proto.CheckFailure().setProperty(f.property).setReason(f.reason));
}

/** Configure's values: `args` from current engines, else the `pulumi-jit:config:<key>` variables (strings). */
function configOf(req: proto.ConfigureRequest): PropertyMap {
  if (req.hasArgs()) return toJs(req.getArgs());
  const out: PropertyMap = {};
  req.getVariablesMap().forEach((value: string, key: string) => {
    out[key.startsWith(CONFIG_PREFIX) ? key.slice(CONFIG_PREFIX.length) : key] = value;
  });
  return out;
}

const ownMethods = {
  checkConfig: unary<proto.CheckRequest, proto.CheckResponse>(async (req) => {
    const news = toJs(req.getNews());
    const checked = checkConfig(unwrapSecrets(news).plain, isUnknown);
    return new proto.CheckResponse().setInputs(struct(news)).setFailuresList(failures(checked.failures));
  }),

  diffConfig: unary<proto.DiffRequest, proto.DiffResponse>(async (req) => {
    const olds = unwrapSecrets(toJs(req.getOldInputs() ?? req.getOlds())).plain;
    const news = unwrapSecrets(toJs(req.getNews())).plain;
    const changed = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => k !== "version" && JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    const resp = new proto.DiffResponse().setChanges(changed.length ? proto.DiffResponse.DiffChanges.DIFF_SOME : proto.DiffResponse.DiffChanges.DIFF_NONE).setDiffsList(changed);
    return resp;
  }),

  configure: unary<proto.ConfigureRequest, proto.ConfigureResponse>(async (req) => {
    const checked = checkConfig(unwrapSecrets(configOf(req)).plain, isUnknown);
    requireValidConfig(checked.failures);
    applyConfig(checked.config);
    // Secrets arrive wrapped and go back wrapped; outputs and resource references are what
    // Construct needs to pass component inputs through as the SDK's runtime expects.
    return new proto.ConfigureResponse().setAcceptsecrets(true).setAcceptresources(true).setAcceptoutputs(true).setSupportspreview(false);
  }),

  diff: unary<proto.DiffRequest, proto.DiffResponse>(async (req) => {
    const d = await diffPolicy(req.getUrn(), toJs(req.getOlds()), toJs(req.getNews()));
    const resp = new proto.DiffResponse()
      .setChanges(d.changes ? proto.DiffResponse.DiffChanges.DIFF_SOME : proto.DiffResponse.DiffChanges.DIFF_NONE)
      .setReplacesList(d.replaces)
      .setDeletebeforereplace(d.deleteBeforeReplace)
      .setDiffsList(d.diffs)
      .setHasdetaileddiff(true);
    const detailed = resp.getDetaileddiffMap();
    for (const [path, kind] of d.detailed) detailed.set(path, new proto.PropertyDiff().setKind(kind as number as proto.PropertyDiff.Kind).setInputdiff(true));
    return resp;
  }),
};

/** Registers the SDK's provider service with the plugin's own methods on top, for the next server only. */
function layerOwnMethods(): void {
  const prototype = grpcJs.Server.prototype;
  const addService = prototype.addService;
  prototype.addService = function (this: grpc.Server, service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) {
    if (service !== ResourceProviderService) return addService.call(this, service, implementation);
    prototype.addService = addService;
    return addService.call(this, service, Object.assign(Object.create(implementation) as grpc.UntypedServiceImplementation, ownMethods));
  };
}

/** Starts the plugin: listens on 127.0.0.1 and prints its port, as the engine expects of a plugin. */
export async function serve(args: string[]): Promise<void> {
  layerOwnMethods();
  await main(jitProvider(), args);
}
