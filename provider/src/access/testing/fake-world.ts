import { openLedger } from "../../ledger";
import { FakeDriver } from "./fake-driver";

export const VM = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1";
export const POLICY = {
  name: "web",
  virtualMachines: [{ id: VM, ports: [{ number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }],
};

/** A ledger holding `POLICY` (port 22 of `VM`), the fake cloud, and a clock only the test moves. */
export async function fakeWorld(start = Date.parse("2030-01-01T00:00:00Z")) {
  const ledger = await openLedger(":memory:");
  await ledger.putPolicy({ policy: POLICY, baseline: {} });
  const driver = new FakeDriver();
  const clock = { t: start };
  const options = { ledger, drivers: { azure: driver }, now: () => new Date(clock.t) };
  return { ledger, driver, clock, options };
}
