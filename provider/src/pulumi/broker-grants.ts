import * as pulumi from "@pulumi/pulumi";
import type { AccessOptions } from "../access/context";
import { errorMessage } from "../model/errors";

/**
 * A broker's grants, as a resource inside each JitBroker: it changes nothing when created, and when
 * it is deleted (first, since it depends on the broker's ledger and functions) it ends every live
 * grant in the broker's ledger, so that destroying a broker never leaves a port open. It runs where
 * `pulumi destroy` runs, with that identity's cloud credentials, as JitPolicy's delete does.
 *
 * Its provider is a shim like JitPolicy's (`shim.ts`): the state holds no code or credential, only
 * the ledger's URL, and the installed pulumi-jit does the work.
 */
const RUNTIME = "pulumi-jit/pulumi-runtime";

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: "grants", outs: inputs };
  },
  async diff(_id, olds, news) {
    return { changes: olds.ledgerUrl !== news.ledgerUrl };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete(_id, props) {
    await require(RUNTIME).endBrokerGrants(props.ledgerUrl);
  },
};

export class BrokerGrants extends pulumi.dynamic.Resource {
  declare public readonly ledgerUrl: pulumi.Output<string>;

  constructor(name: string, args: { ledgerUrl: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ledgerUrl: args.ledgerUrl }, opts, "pulumi-jit/broker", "BrokerGrants");
  }
}

/**
 * Ends every live grant recorded in the ledger at `ledgerUrl`, restoring the network; fails (so the
 * destroy stops with the broker still in place) if any cannot be ended. Returns the grants ended.
 */
export async function endBrokerGrants(ledgerUrl: string, options: AccessOptions = {}): Promise<string[]> {
  const { withContext, endGrant } = await import("../access");
  const ledger = options.ledger ?? (await (await import("../ledger")).openLedger(ledgerUrl));
  try {
    return await withContext({ ...options, ledger, progress: options.progress ?? ((m) => process.stderr.write(`pulumi-jit: ${m}\n`)) }, async (ctx) => {
      const ended: string[] = [];
      const failed: string[] = [];
      for (const grant of await ctx.ledger.listGrants({ state: ["pending", "applying", "active", "restoring"] })) {
        try {
          await endGrant(ctx, await ctx.driver(grant.cloud), grant, "UserRequested", { actor: "pulumi-jit broker delete" });
          ended.push(grant.id);
        } catch (err) {
          failed.push(`${grant.id}: ${errorMessage(err)}`);
        }
      }
      if (failed.length) {
        const { JitError } = await import("../model");
        throw new JitError("CloudError", `could not end ${failed.length} live grant(s) of the broker, so it is kept: ${failed.join("; ")}`.slice(0, 2000));
      }
      return ended;
    });
  } finally {
    if (!options.ledger) await ledger.close();
  }
}
