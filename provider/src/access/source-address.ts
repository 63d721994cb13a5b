import { isPublicAddress } from "../model/address";
import { JitError, errorMessage } from "../model/errors";

/**
 * "My IP": when a request names no source, the grant is for the caller's public address, as in
 * Defender. We ask two independent echo services and use the answer only when both agree on one
 * public address; behind a proxy, VPN or split NAT they can disagree, and a wrong guess would open
 * the port to somebody else's address or lock the caller out. Then we refuse and ask for a source.
 */
export const DEFAULT_ADDRESS_ECHO_SERVICES = ["https://checkip.amazonaws.com", "https://api.ipify.org"];

export interface DetectAddressOptions {
  services?: string[];
  timeoutMs?: number;
}

async function ask(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.text()).trim();
}

export async function detectPublicAddress(options: DetectAddressOptions = {}): Promise<string> {
  const services = options.services ?? DEFAULT_ADDRESS_ECHO_SERVICES;
  const timeoutMs = options.timeoutMs ?? 5000;
  const answers = await Promise.all(
    services.map(async (url) => {
      try {
        return { url, address: await ask(url, timeoutMs) };
      } catch (err) {
        return { url, error: errorMessage(err) };
      }
    }),
  );
  const summary = answers.map((a) => ("address" in a ? `${a.url} said ${a.address}` : `${a.url} failed (${a.error})`)).join("; ");
  const refuse = (why: string) =>
    new JitError("InvalidInput", `cannot tell your public address: ${why} (${summary}). Name the source address explicitly (--source on the CLI, allowedSourceAddressPrefix in the API).`, {
      field: "allowedSourceAddressPrefix",
    });
  const addresses = answers.flatMap((a) => ("address" in a && a.address !== undefined ? [a.address] : []));
  if (addresses.length !== services.length) throw refuse("not every address service answered");
  if (new Set(addresses).size !== 1) throw refuse("the address services disagree");
  if (!isPublicAddress(addresses[0])) throw refuse(`"${addresses[0]}" is not a public IP address`);
  return addresses[0];
}
