import type { FaultInjector, RequestInfo } from "../../provider/src/emulator/common/faults";

/**
 * Permission enforcement for the emulators, which answer every authenticated call: each request is
 * mapped to the action the cloud would authorise it as, worked out from the request alone (not from
 * our role tables), and refused as the cloud would when `allowed` says no. Used only while a
 * single principal calls the emulator.
 */

/**
 * The RBAC action ARM authorises a request as: the resource provider namespace and resource types
 * of the path (after its last `providers` segment) and the verb (GET read, PUT/PATCH write, DELETE
 * delete, POST `<name>/action`). Listing one's own permissions needs no action (`undefined`).
 */
export function armAction(method: string, path: string): string | undefined {
  const segments = path.split("?")[0].split("/").filter(Boolean);
  const at = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  const [namespace, ...rest] = segments.slice(at + 1);
  if (`${namespace}/${rest[0]}`.toLowerCase() === "microsoft.authorization/permissions") return undefined;
  if (method === "POST") {
    const types = rest.slice(0, -1).filter((_, i) => i % 2 === 0);
    return [namespace, ...types, rest[rest.length - 1], "action"].join("/");
  }
  const types = rest.filter((_, i) => i % 2 === 0);
  const verb = method === "GET" ? "read" : method === "DELETE" ? "delete" : "write";
  return [namespace, ...types, verb].join("/");
}

/**
 * The IAM actions an AWS Query API request is authorised as. GetCallerIdentity needs none; a
 * create that carries TagSpecifications (our driver always tags what it creates) also needs
 * `ec2:CreateTags`.
 */
export function awsActions(operation: string): string[] {
  if (operation === "GetCallerIdentity") return [];
  if (operation === "SimulatePrincipalPolicy" || operation === "GetRole") return [`iam:${operation}`];
  if (operation === "CreateSecurityGroup" || operation === "AuthorizeSecurityGroupIngress") return [`ec2:${operation}`, "ec2:CreateTags"];
  return [`ec2:${operation}`];
}

export interface Enforcement {
  /** Every action asked for so far. */
  used: Set<string>;
  /** Actions refused so far. */
  refused: string[];
}

/** Refuses (with the cloud's error) every request needing an action `allowed` rejects. */
export function enforce(faults: FaultInjector, cloud: "azure" | "aws", allowed: (action: string) => boolean): Enforcement {
  const state: Enforcement = { used: new Set(), refused: [] };
  const take = faults.take.bind(faults);
  faults.take = (req: RequestInfo) => {
    const actions = cloud === "azure" ? [armAction(req.method, req.path)].flatMap((a) => (a ? [a] : [])) : awsActions(req.operation);
    actions.forEach((a) => state.used.add(a));
    const denied = actions.find((a) => !allowed(a));
    if (denied === undefined) return take(req);
    state.refused.push(denied);
    return cloud === "azure"
      ? { kind: "error", status: 403, code: "AuthorizationFailed", message: `The client does not have authorization to perform action '${denied}' over scope '${req.path}'.` }
      : { kind: "error", status: 403, code: denied.startsWith("iam:") ? "AccessDenied" : "UnauthorizedOperation", message: `You are not authorized to perform: ${denied}` };
  };
  return state;
}
