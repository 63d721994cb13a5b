import { fail } from "./arm";
import { key } from "./ids";

/**
 * Azure management locks (`Microsoft.Authorization/locks`), as Azure Resource Manager enforces them
 * before a request reaches the resource provider. A lock applies to its scope and everything under
 * it. `CanNotDelete` refuses deletes, child resources included (so a security rule cannot be
 * deleted from a locked NSG, while PUTs still go through); `ReadOnly` refuses every write. ARM
 * answers 409 `ScopeLocked`, naming the target and the locked scopes, as recorded in the field:
 * "The scope '…/securityRules/…' cannot perform delete operation because following scope(s) are
 * locked: '/subscriptions/…/resourceGroups/…'. Please remove the lock and try again."
 */
export type LockLevel = "CanNotDelete" | "ReadOnly";

export interface ManagementLock {
  scope: string;
  level: LockLevel;
}

export class ManagementLocks {
  private locks: ManagementLock[] = [];

  add(scope: string, level: LockLevel): void {
    this.locks.push({ scope: scope.replace(/\/+$/, ""), level });
  }

  remove(scope: string): void {
    this.locks = this.locks.filter((l) => key(l.scope) !== key(scope.replace(/\/+$/, "")));
  }

  list(): ManagementLock[] {
    return this.locks.map((l) => ({ ...l }));
  }

  /** Refuses a write to `path` (a resource id) that a lock on it or above it forbids. */
  check(method: string, path: string): void {
    const target = key(path.replace(/\/+$/, ""));
    const deleting = method.toUpperCase() === "DELETE";
    const locked = this.locks.filter((l) => {
      const scope = key(l.scope);
      const under = target === scope || target.startsWith(`${scope}/`);
      return under && (l.level === "ReadOnly" || deleting);
    });
    if (locked.length === 0) return;
    fail(
      409,
      "ScopeLocked",
      `The scope '${path}' cannot perform ${deleting ? "delete" : "write"} operation because following scope(s) are locked: ${locked.map((l) => `'${l.scope}'`).join(", ")}. Please remove the lock and try again.`,
    );
  }
}
