import type { Operations } from "./lro";
import type { AzureEmulatorOptions } from "./options";
import type { Store } from "./store";

/** What every resource module works with. */
export interface Ctx {
  store: Store;
  options: AzureEmulatorOptions;
  lro: Operations;
}
