import { createAzureDriver } from "../../provider/src/azure";
import { AzureTokenVerifier, RunningBroker, outbound, startBroker } from "../../provider/src/broker";
import type { AzureEmulator } from "../../provider/src/emulator/azure";
import type { Ledger } from "../../provider/src/ledger";

/** A broker on 127.0.0.1 that trusts the Azure emulator's issuer and writes as `principal` (which holds the broker role). */
export async function azureBroker(emu: AzureEmulator, ledger: Ledger, principal: string, options: { now?: () => Date; logs?: string[]; admins?: string[] } = {}): Promise<RunningBroker> {
  const driver = createAzureDriver({
    endpoint: emu.endpoint,
    ca: emu.clientOptions.tlsOptions.ca,
    credential: emu.credentialFor(principal) as never,
    pollIntervalMs: 0,
    backoffMs: 5,
    conflictRetries: 0,
    retryOptions: { maxRetries: 0 },
  });
  const verifier = new AzureTokenVerifier({
    tenants: [emu.identity.tenantId],
    authorityHost: emu.identity.authorityHost,
    audiences: [emu.identity.audience],
    fetch: outbound({ ca: emu.clientOptions.tlsOptions.ca }),
  });
  return startBroker(
    {
      access: { ledger, drivers: { azure: driver }, ...(options.now ? { now: options.now } : {}) },
      auth: { azure: verifier },
      admins: options.admins ?? [],
      log: (line) => options.logs?.push(line),
    },
    { host: "127.0.0.1", port: 0 },
  );
}

export const POLICY_PORT = { number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" };
