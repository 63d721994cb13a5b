import { JitError } from "../model/errors";

/**
 * Loads a Pulumi provider SDK that only the role components use, when one is constructed: the
 * rest of pulumi-jit works without it, so a program that creates no role needs neither.
 */
export function peerModule<T>(name: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" && String((err as Error).message).includes(name)) {
      throw new JitError("Unsupported", `this component creates ${name} resources: add ${name} to the program's dependencies (npm install ${name})`, { cause: err });
    }
    throw err;
  }
}
