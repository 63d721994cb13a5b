import { createHash } from "node:crypto";
import { AwsError } from "./errors";
import { parsePolicy, PolicyDocument, PolicySource, SourcePolicyType } from "./policy";

/**
 * The IAM users and roles that can call the endpoint. Each has its own credentials, derived from
 * its name so they are stable across runs; a request's access key id (from its SigV4 credential
 * scope) says who is calling, and its signature (sigv4.ts) proves it.
 */
export interface PrincipalSeed {
  /** The name tests use (`credentialsFor(name)`), and the user's or role's IAM name. */
  name: string;
  /** A user calls with long-term keys; a role with session credentials (GetCallerIdentity shows the assumed-role ARN). */
  type?: "user" | "role";
  /** The role session name in the assumed-role ARN; the principal's name by default. */
  sessionName?: string;
  /**
   * The IAM path, `/` by default; e.g. `/aws-reserved/sso.amazonaws.com/eu-west-1/` for an IAM
   * Identity Center role. It is part of the user's or role's ARN, never of a session's.
   */
  path?: string;
  /** Identity policies. Inline by default (source type `user`/`role`); `type` names another source. */
  policies?: { name: string; document: PolicyDocument | string; type?: SourcePolicyType }[];
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Principal {
  name: string;
  type: "user" | "role";
  path: string;
  /** The user's or role's ARN, which SimulatePrincipalPolicy takes. */
  arn: string;
  /** What GetCallerIdentity says: the user's ARN, or the role session's. */
  callerArn: string;
  userId: string;
  credentials: AwsCredentials;
  policies: PolicySource[];
}

const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function derived(purpose: string, name: string, length: number): string {
  const bytes = createHash("sha256").update(`${purpose}:${name}`).digest();
  return Array.from(bytes.subarray(0, length), (b) => base32[b % 32]).join("");
}

export class Principals {
  private readonly byName = new Map<string, Principal>();

  constructor(private readonly accountId: string) {}

  add(seed: PrincipalSeed): Principal {
    if (this.byName.has(seed.name)) throw new Error(`principal ${seed.name} already exists`);
    const type = seed.type ?? "user";
    const session = seed.sessionName ?? seed.name;
    const role = type === "role";
    const uniqueId = (role ? "AROA" : "AIDA") + derived("unique-id", seed.name, 17);
    const path = seed.path ?? "/";
    if (!/^\/(?:[\x21-\x7e]+\/)?$/.test(path) || path.length > 512) throw new Error(`path ${path} must start and end with "/"`);
    const principal: Principal = {
      name: seed.name,
      type,
      path,
      arn: `arn:aws:iam::${this.accountId}:${type}${path}${seed.name}`,
      callerArn: role ? `arn:aws:sts::${this.accountId}:assumed-role/${seed.name}/${session}` : `arn:aws:iam::${this.accountId}:user/${seed.name}`,
      userId: role ? `${uniqueId}:${session}` : uniqueId,
      credentials: {
        accessKeyId: (role ? "ASIA" : "AKIA") + derived("access-key", seed.name, 16),
        secretAccessKey: createHash("sha256").update(`secret:${seed.name}`).digest("base64").slice(0, 40),
        sessionToken: role ? createHash("sha256").update(`session:${seed.name}`).digest("base64") : undefined,
      },
      policies: (seed.policies ?? []).map((p) => parsePolicy(p.name, p.type ?? type, p.document)),
    };
    this.byName.set(seed.name, principal);
    return principal;
  }

  named(name: string): Principal {
    const principal = this.byName.get(name);
    if (!principal) throw new Error(`no principal named ${name}; add it with seed.principal() or the principals option`);
    return principal;
  }

  byAccessKey(accessKeyId: string): Principal | undefined {
    return [...this.byName.values()].find((p) => p.credentials.accessKeyId === accessKeyId);
  }

  /**
   * The user or role an IAM ARN names, as SimulatePrincipalPolicy looks it up: by its whole ARN,
   * path included (a role under a path is not found by a path-less ARN). A session ARN is not an
   * IAM entity.
   */
  byArn(arn: string): Principal {
    const m = /^arn:aws:iam::(\d{12}):(user|role)\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) {
      throw new AwsError("InvalidInput", arn.includes(":assumed-role/") ? `Invalid Entity Arn: ${arn} does not clearly define entity type and name.` : `ARN ${arn} is not valid.`);
    }
    const found = [...this.byName.values()].find((p) => p.arn === arn);
    if (!found) throw new AwsError("NoSuchEntity", `The ${m[2]} with name ${m[3]} cannot be found.`, 404);
    return found;
  }

  /** A role by its name (GetRole). */
  role(name: string): Principal {
    const found = this.byName.get(name);
    if (!found || found.type !== "role") throw new AwsError("NoSuchEntity", `The role with name ${name} cannot be found.`, 404);
    return found;
  }
}
