import { devNull } from "node:os";
import { CallLog, EmulatorRequest, EmulatorResponse, FaultInjector, startEmulatorServer } from "../common";
import { AwsError } from "./errors";
import { iamOperations } from "./iam";
import { instanceOperations } from "./instances";
import { networkInterfaceOperations } from "./network-interfaces";
import type { Operation } from "./operations";
import { AwsCredentials, Principal, PrincipalSeed, Principals } from "./principals";
import { Authenticated, authenticate } from "./authenticate";
import { enforceIam } from "./authorize";
import { renderError, renderResult, ServiceName, serviceOf } from "./protocol";
import { QueryNode } from "./query";
import { SchedulerState, error as schedulerError } from "./scheduler";
import { securityGroupOperations } from "./security-groups";
import { Seeder } from "./seed";
import { Ec2State, Limits } from "./state";
import { stsOperations } from "./sts";
import { tagOperations } from "./tags";
import { vpcOperations } from "./vpcs";
import { ThrottleOptions, TokenBuckets } from "./throttle";

export type { AwsCredentials, Principal as AwsPrincipal, PrincipalSeed as AwsPrincipalSeed } from "./principals";
export type { PolicyDocument as IamPolicyDocument, SourcePolicyType as IamSourcePolicyType } from "./policy";
export type {
  Seeder as AwsSeed,
  InstanceSeed as Ec2InstanceSeed,
  InterfaceSeed as Ec2InterfaceSeed,
  RuleSeed as Ec2RuleSeed,
  SecurityGroupSeed as Ec2SecurityGroupSeed,
  SubnetSeed as Ec2SubnetSeed,
  VpcSeed as Ec2VpcSeed,
} from "./seed";
export type {
  Ec2State,
  Instance as Ec2Instance,
  Limits as Ec2Limits,
  NetworkInterface as Ec2NetworkInterface,
  Peer as Ec2Peer,
  SecurityGroup as Ec2SecurityGroup,
  SecurityGroupRule as Ec2SecurityGroupRule,
  Subnet as Ec2Subnet,
  Vpc as Ec2Vpc,
} from "./state";
export type { ThrottleOptions as Ec2ThrottleOptions } from "./throttle";
export type { Delivery as ScheduleDelivery, Schedule, SchedulerState } from "./scheduler";

/**
 * A local AWS endpoint for the EC2 Query API (instances, network interfaces, VPCs and subnets,
 * security groups and rules, tags), STS GetCallerIdentity, IAM SimulatePrincipalPolicy and EventBridge Scheduler's
 * one-time schedules (`scheduler`), on one 127.0.0.1 port.
 * The real SDK clients talk to it unchanged:
 *
 * ```ts
 * const aws = await startAwsEmulator();
 * const web = aws.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "203.0.113.0/24" }] });
 * aws.seed.instance({ groupIds: [web.id], publicIp: "198.51.100.10" });
 * const ec2 = new EC2Client(aws.clientConfig);
 * ```
 */
export interface AwsEmulatorOptions {
  region?: string;
  accountId?: string;
  /** Seeds the generator of resource ids, so a run's ids replay. */
  randomSeed?: number;
  /** Create the default VPC a new account has (172.31.0.0/16, one subnet, default group). Default true. */
  defaultVpc?: boolean;
  /**
   * Who may call. Without any, one user `admin` with an allow-all policy. The first (or
   * `defaultPrincipal`) is the one `credentials` and `clientConfig` belong to.
   */
  principals?: PrincipalSeed[];
  defaultPrincipal?: string;
  /** EC2 quotas: 60 rules per group and direction and address family, 5 groups per interface (up to 16). */
  limits?: Partial<Limits>;
  /** Throttle EC2 calls with a token bucket per action. Off by default. */
  throttle?: ThrottleOptions;
  /**
   * Verify each request's SigV4 signature with the caller's secret, its session token, and that it
   * was signed within 15 minutes of the emulator's clock. Default true.
   */
  verifySignatures?: boolean;
  /**
   * Evaluate the caller's identity policies on every call, as IAM does (see authorize.ts): EC2
   * answers `UnauthorizedOperation`, IAM and STS `AccessDenied`. Default true.
   */
  enforceIam?: boolean;
  /** The emulator's clock (ms since the epoch), for signature freshness; `emu.clock` moves it. Default `Date.now`. */
  now?: () => number;
}

/** The emulator's clock: its base (`options.now`) plus an offset a test moves. */
export interface AwsEmulatorClock {
  now(): number;
  advance(ms: number): void;
  set(ms: number): void;
}

export interface AwsEmulator {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  region: string;
  /** The default principal's credentials. */
  credentials: AwsCredentials;
  credentialsFor(principal: string): AwsCredentials;
  /** `{ endpoint, region, credentials }`, ready for EC2Client, STSClient and IAMClient. */
  clientConfig: { endpoint: string; region: string; credentials: AwsCredentials };
  /**
   * The environment that points a process (the `jit` CLI, a Pulumi provider, a child process) at
   * this emulator as `principal` (default: the default principal), the way the AWS CLI and SDK read
   * it. The shared config and credentials files are an empty file and instance metadata is off, so
   * nothing of the machine's own AWS set-up is mixed in.
   */
  env(principal?: string): AwsEmulatorEnv;
  seed: Seeder;
  /** The emulated resources, to read directly in assertions (reads are not API calls). */
  state: Ec2State;
  faults: FaultInjector;
  calls: CallLog;
  /** EventBridge Scheduler's schedules; `scheduler.fire(clock.now())` delivers those due. */
  scheduler: SchedulerState;
  clock: AwsEmulatorClock;
  options: AwsEmulatorOptions;
  close(): Promise<void>;
}

export interface AwsEmulatorEnv {
  AWS_ENDPOINT_URL: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_SESSION_TOKEN?: string;
  AWS_CONFIG_FILE: string;
  AWS_SHARED_CREDENTIALS_FILE: string;
  AWS_EC2_METADATA_DISABLED: "true";
}

/** Every action the endpoint serves, by service. */
export const servedOperations: Record<ServiceName, Record<string, Operation>> = {
  ec2: { ...vpcOperations, ...securityGroupOperations, ...networkInterfaceOperations, ...instanceOperations, ...tagOperations },
  sts: stsOperations,
  iam: iamOperations,
};

const admin: PrincipalSeed = {
  name: "admin",
  policies: [{ name: "AdministratorAccess", type: "aws-managed", document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
};

function checkLimits(limits: Limits): Limits {
  const { rulesPerGroup, groupsPerInterface } = limits;
  if (!Number.isInteger(groupsPerInterface) || groupsPerInterface < 1 || groupsPerInterface > 16) throw new Error("groupsPerInterface must be 1 to 16");
  if (!Number.isInteger(rulesPerGroup) || rulesPerGroup < 1) throw new Error("rulesPerGroup must be a positive integer");
  // EC2's quota: rules per group times groups per interface may not pass 1,000.
  if (rulesPerGroup * groupsPerInterface > 1000) throw new Error("rulesPerGroup × groupsPerInterface may not exceed 1000");
  return limits;
}

const throttledMessage = "Request limit exceeded.";

interface ParsedRequest {
  service: ServiceName;
  action: string;
  op?: Operation;
  /** Who signed it, or why the request is refused before anything else. */
  auth: Authenticated | AwsError;
  params: QueryNode;
}

function parseRequest(req: EmulatorRequest): QueryNode {
  return QueryNode.parse(req.method === "GET" ? req.url.search.slice(1) : req.body);
}

export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const state = new Ec2State(accountId, region, checkLimits({ rulesPerGroup: 60, groupsPerInterface: 5, ...options.limits }), options.randomSeed ?? 1);
  const principals = new Principals(accountId);
  const seed = new Seeder(state, principals);
  const seeded = (options.principals ?? [admin]).map((p) => seed.principal(p));
  const defaultPrincipal: Principal | undefined = options.defaultPrincipal ? principals.named(options.defaultPrincipal) : seeded[0];
  if (!defaultPrincipal) throw new Error("principals must not be empty");
  if (options.defaultVpc ?? true) seed.defaultVpc();

  const buckets = new TokenBuckets(options.throttle);
  let offset = 0;
  const base = options.now ?? Date.now;
  const clock: AwsEmulatorClock = {
    now: () => base() + offset,
    advance: (ms) => void (offset += ms),
    set: (ms) => void (offset = ms - base()),
  };
  // The services date their answers by their own clock; the SDKs correct their skew from it.
  const dated = (out: EmulatorResponse): EmulatorResponse => ({ ...out, headers: { ...out.headers, date: new Date(clock.now()).toUTCString() } });
  const faults = new FaultInjector();
  const calls = new CallLog();

  const serve = ({ service, action, op, auth, params }: ParsedRequest) => {
    try {
      if (auth instanceof AwsError) throw auth;
      const { caller, scope } = auth;
      // EC2 and STS endpoints are regional: a client set up for another region is refused, not
      // silently served. (IAM is global.)
      if (service !== "iam" && scope.region !== region) {
        const message = `Credential should be scoped to a valid region, not '${scope.region}'.`;
        throw service === "ec2" ? new AwsError("AuthFailure", message, 401) : new AwsError("SignatureDoesNotMatch", message, 403);
      }
      if (!op) throw new AwsError("InvalidAction", `The action ${action} is not valid for this web service.`);
      if (service === "ec2" && !buckets.take(action)) throw new AwsError("RequestLimitExceeded", throttledMessage, 503);
      if (options.enforceIam ?? true) enforceIam({ state, caller, region, accountId, now: clock.now() }, service, action, params, principals);
      // EC2 answers a dry run once it knows who asks and what; nothing is looked up or changed.
      if (service === "ec2" && params.bool("DryRun")) throw new AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
      return renderResult(service, action, op.handle({ state, principals, caller }, params));
    } catch (err) {
      if (err instanceof AwsError) return renderError(service, err.code, err.message, err.status);
      throw err;
    }
  };

  const scheduler = new SchedulerState(accountId, region);
  const scheduleRoute = (req: EmulatorRequest) => {
    let caller: Principal | AwsError;
    try {
      const { scope, caller: who } = authenticate(req, "sts", principals, { verifySignatures: options.verifySignatures ?? true, now: clock.now() });
      caller = scope.region === region ? who : new AwsError("InvalidSignatureException", `Credential should be scoped to a valid region, not '${scope.region}'.`, 403);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      caller = err;
    }
    const operation = { POST: "CreateSchedule", GET: "GetSchedule", DELETE: "DeleteSchedule" }[req.method] ?? "Unknown";
    return {
      operation,
      write: req.method !== "GET",
      principal: caller instanceof AwsError ? undefined : caller.name,
      serve: () => dated(caller instanceof AwsError ? schedulerError(caller) : scheduler.serve(req, caller, clock.now())),
    };
  };

  const server = await startEmulatorServer({
    calls,
    faults,
    route(req) {
      if (req.url.pathname.startsWith("/schedules/")) return scheduleRoute(req);
      const params = parseRequest(req);
      const action = params.str("Action") ?? "";
      const service = serviceOf(req, params.str("Version"));
      const op = Object.hasOwn(servedOperations[service], action) ? servedOperations[service][action] : undefined;
      let auth: Authenticated | AwsError;
      try {
        auth = authenticate(req, service, principals, { verifySignatures: options.verifySignatures ?? true, now: clock.now() });
      } catch (err) {
        if (!(err instanceof AwsError)) throw err;
        auth = err;
      }
      return {
        operation: action || "Unknown",
        write: op?.write ?? false,
        principal: auth instanceof AwsError ? undefined : auth.caller.name,
        serve: () => dated(serve({ service, action, op, auth, params })),
      };
    },
    renderFault: (fault, req) => {
      const message = fault.message ?? (fault.code === "RequestLimitExceeded" ? throttledMessage : fault.code);
      return renderError(serviceOf(req, parseRequest(req).str("Version")), fault.code, message, fault.status, fault.headers);
    },
    renderInternalError: (err, req) => {
      const service = serviceOf(req, parseRequest(req).str("Version"));
      return renderError(service, service === "ec2" ? "InternalError" : "InternalFailure", `An internal error has occurred: ${String(err)}`, 500);
    },
  });

  return {
    endpoint: server.endpoint,
    region,
    credentials: defaultPrincipal.credentials,
    credentialsFor: (name) => principals.named(name).credentials,
    clientConfig: { endpoint: server.endpoint, region, credentials: defaultPrincipal.credentials },
    env: (principal) => {
      const { accessKeyId, secretAccessKey, sessionToken } = principal === undefined ? defaultPrincipal.credentials : principals.named(principal).credentials;
      return {
        AWS_ENDPOINT_URL: server.endpoint,
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
        ...(sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: sessionToken }),
        AWS_CONFIG_FILE: devNull,
        AWS_SHARED_CREDENTIALS_FILE: devNull,
        AWS_EC2_METADATA_DISABLED: "true",
      };
    },
    seed,
    state,
    faults,
    calls,
    scheduler,
    clock,
    options,
    close: () => server.close(),
  };
}
