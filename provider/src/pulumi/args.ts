import * as pulumi from "@pulumi/pulumi";
import { JitError } from "../model/errors";

/**
 * Checks a component's or resource's arguments in its constructor, before anything is registered,
 * so that a program with a wrong argument stops once, with the product's error naming the field,
 * and nothing (no resource, no `apply`) runs after the refusal.
 */
export function requireArgs<T extends object>(what: string, args: T | undefined, required: readonly (keyof T & string)[]): T {
  if (args === null || typeof args !== "object") {
    throw new JitError("InvalidInput", `${what} needs its arguments: ${required.join(", ")}`, { field: required[0] });
  }
  for (const key of required) {
    const value = args[key];
    if (value === undefined || value === null || value === "") throw new JitError("InvalidInput", `${what} needs \`${key}\``, { field: key });
  }
  return args;
}

/**
 * The value itself when it holds no Output, Promise or unknown anywhere (a program's literal), else
 * undefined. Plain arguments are validated at once by the constructor; the others when the engine
 * knows them.
 */
export function plainValue<T>(value: T): pulumi.Unwrap<T> | undefined {
  return isPlain(value) ? (value as pulumi.Unwrap<T>) : undefined;
}

function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise || pulumi.isUnknown(value)) return false;
  if (Array.isArray(value)) return value.every(isPlain);
  if (value && typeof value === "object") return Object.values(value).every(isPlain);
  return true;
}
