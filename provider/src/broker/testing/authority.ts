import * as http from "node:http";
import { KeyObject, createHmac, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import type { AddressInfo } from "node:net";

/**
 * A stand-in Entra ID authority for the verifier's unit tests: OIDC discovery and JWKS on
 * 127.0.0.1, keys made here, and tokens signed (or forged) with them. End-to-end tests use the
 * emulator's own issuer instead.
 */
export interface TestAuthority {
  url: string;
  tenantId: string;
  issuer: string;
  /** GETs served, by path. */
  requests: string[];
  token(claims?: Record<string, unknown>, options?: { alg?: "none" | "HS256"; foreign?: boolean; tamper?: boolean; kid?: string }): string;
  /** Publishes a new current key (keeping the old one). */
  rotate(): void;
  close(): Promise<void>;
}

interface Key {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicKey };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export async function startTestAuthority(tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47"): Promise<TestAuthority> {
  const keys = [newKey()];
  const foreign = newKey();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let body: unknown;
    if (req.url === `/${tenantId}/.well-known/openid-configuration`) {
      body = { issuer: `https://sts.windows.net/${tenantId}/`, jwks_uri: `${base}/common/discovery/keys`, id_token_signing_alg_values_supported: ["RS256"] };
    } else if (req.url === "/common/discovery/keys") {
      body = { keys: keys.map((k) => ({ ...k.publicKey.export({ format: "jwk" }), kid: k.kid, use: "sig" })) };
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `https://sts.windows.net/${tenantId}/`;
  return {
    url,
    tenantId,
    issuer,
    requests,
    token(claims = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const key = options.foreign ? foreign : keys[keys.length - 1];
      const header = { typ: "JWT", alg: options.alg ?? "RS256", kid: options.kid ?? keys[keys.length - 1].kid };
      const payload = {
        aud: "https://management.azure.com/",
        iss: issuer,
        tid: tenantId,
        oid: "00000000-0000-0000-0000-0000000000a1",
        upn: "ana@example.com",
        iat: now,
        nbf: now,
        exp: now + 3600,
        ver: "1.0",
        ...claims,
      };
      const input = `${b64(header)}.${b64(payload)}`;
      const signature =
        options.alg === "none" ? "" : options.alg === "HS256" ? createHmac("sha256", "secret").update(input).digest("base64url") : sign("RSA-SHA256", Buffer.from(input), key.privateKey).toString("base64url");
      const token = `${input}.${signature}`;
      return options.tamper ? `${b64(header)}.${b64({ ...payload, oid: "00000000-0000-0000-0000-0000000000ff" })}.${signature}` : token;
    },
    rotate() {
      keys.push(newKey());
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
