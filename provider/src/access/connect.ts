import type { CloudDriver, Reach } from "../driver";
import { Connection, Grant, JitError, epochMs, firewallMapping, parsePrefix, parseVmId, policyCloud, prefixContains, vmKey, vmNameOf } from "../model";
import type { Caller } from "./authorize";
import { AccessContext, withContext } from "./context";
import { PolicyRef, resolvePolicy } from "./policies";
import { RequestAccessOptions, callerAddress, requestWith } from "./request";

/** What `jit ssh`, `jit rdp` and `jit connect` ask for: one port of one VM, for the caller's address. */
export interface ConnectArgs {
  policy: PolicyRef;
  /** The VM's id as the policy spells it. */
  vmId: string;
  port: number;
  /** How long, when a new grant is needed (ISO-8601). */
  duration: string;
  justification?: string;
}

export interface ConnectOptions extends RequestAccessOptions {
  /** How long to wait for the rule to take effect before giving up. Default 2 minutes. */
  waitMs?: number;
  /** How long to wait between two reads of the cloud. Default 2 seconds. */
  pollMs?: number;
  /** How to wait (tests pass one that moves a virtual clock). */
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_WAIT_MS = 120_000;
export const DEFAULT_POLL_MS = 2_000;

/** Opens (or reuses) access to one port and waits until the cloud lets the caller in; see `connectWith`. */
export function connect(args: ConnectArgs, options: ConnectOptions = {}): Promise<Connection> {
  return withContext(options, (ctx) => connectWith(ctx, args, options));
}

/**
 * The caller's way in to one port of a VM. A grant of the caller's that is live, covers the port
 * and admits the caller's address is used as it is; otherwise a new one is requested. Then the
 * cloud is read until every NSG, firewall or security group on the way admits the caller (a rule
 * written is not always a rule in effect), with a progress line while it waits.
 */
export async function connectWith(ctx: AccessContext, args: ConnectArgs, options: ConnectOptions = {}): Promise<Connection> {
  const policy = await resolvePolicy(ctx.ledger, args.policy);
  const driver = await ctx.driver(policyCloud(policy));
  const caller: Caller = options.caller ?? { principal: await driver.whoAmI(), mode: "direct" };
  const source = await callerAddress(options.sourceAddress);
  let grant = await liveGrantFor(ctx, policy.name, caller.principal.id, args.vmId, args.port, source);
  const reused = grant !== undefined;
  if (grant) {
    ctx.progress(`using grant ${grant.id}, live until ${grant.endTimeUtc}`);
  } else {
    grant = await requestWith(
      ctx,
      {
        policy,
        virtualMachines: [{ id: args.vmId, ports: [{ number: args.port, duration: args.duration, allowedSourceAddressPrefix: source }] }],
        ...(args.justification ? { justification: args.justification } : {}),
      },
      { ...options, caller, sourceAddress: source },
    );
  }
  const reach = await waitUntilReachable(ctx, driver, grant, args.vmId, args.port, source, options);
  return { grant, reused, vmId: args.vmId, port: args.port, host: reach.host, endpointPort: reach.port, detail: reach.detail };
}

/** The caller's active grant that lets `source` in to the VM's port for at least another minute, if any. */
export async function liveGrantFor(ctx: AccessContext, policy: string, requester: string, vmId: string, port: number, source: string): Promise<Grant | undefined> {
  const key = vmKey(parseVmId(vmId));
  const address = parsePrefix(source);
  const soon = ctx.now().getTime() + 60_000;
  const active = await ctx.ledger.listGrants({ policy, vm: vmId, state: "active" });
  return active
    .filter((g) => g.requester.toLowerCase() === requester.toLowerCase())
    .find((g) =>
      g.virtualMachines.some(
        (vm) =>
          vmKey(parseVmId(vm.id)) === key &&
          vm.ports.some((p) => p.number === port && epochMs(p.endTimeUtc) > soon && prefixContains(parsePrefix(p.sourceAddressPrefix), address)),
      ),
    );
}

/**
 * Reads the way in until it admits `source`, or gives up after `waitMs` (measured on the context's
 * clock) with `CloudError`. The grant's firewall mapping, if any, says the way goes through a
 * firewall. Returns the endpoint as the cloud answered it.
 */
export async function waitUntilReachable(
  ctx: AccessContext,
  driver: CloudDriver,
  grant: Grant,
  vmId: string,
  port: number,
  source: string,
  options: Pick<ConnectOptions, "waitMs" | "pollMs" | "sleep"> = {},
): Promise<Reach & { host: string }> {
  if (!driver.reach) throw new JitError("Unsupported", `the ${driver.cloud} driver cannot tell where a VM is reached`);
  const vm = grant.virtualMachines.find((v) => vmKey(parseVmId(v.id)) === vmKey(parseVmId(vmId)));
  const granted = vm?.ports.find((p) => p.number === port);
  if (!vm || !granted) throw new JitError("InvalidInput", `grant ${grant.id} does not cover port ${port} of ${vmNameOf(vmId)}`, { field: "port" });
  const mapping = firewallMapping(grant, vm.id, port);
  const via = mapping?.address === undefined ? undefined : { address: mapping.address, port: mapping.mappedPort };
  const query = { vmId: vm.id, port, protocol: granted.protocol, source, ...(via ? { via } : {}) };
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = ctx.now().getTime();
  const what = `port ${port} of ${vmNameOf(vm.id)}`;
  for (;;) {
    const reach = await driver.reach(query);
    if (reach.allowed && reach.host !== undefined) {
      ctx.progress(`${what} admits ${source}: connect to ${endpointText(reach.host, reach.port)} (${reach.detail})`);
      return { ...reach, host: reach.host };
    }
    if (reach.host === undefined) throw new JitError("Unsupported", `${what} has no address to connect to from outside: ${reach.detail}`);
    const waited = ctx.now().getTime() - started;
    if (waited >= waitMs) {
      throw new JitError("CloudError", `${what} still does not admit ${source} after ${Math.round(waited / 1000)}s (${reach.detail}); grant ${grant.id} stays open until ${grant.endTimeUtc}`);
    }
    ctx.progress(`waiting for the rule to take effect on ${what}: ${reach.detail}`);
    await sleep(pollMs);
  }
}

/** `host:port`, with brackets around an IPv6 address. */
export function endpointText(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
