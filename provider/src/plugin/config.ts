import { JitError } from "../model/errors";

/**
 * The provider's configuration (`pulumi config set pulumi-jit:<key> <value>`, or the inputs of an
 * explicit `pulumi-jit:index:Provider`): where the ledger, the broker and the clouds are. Each key
 * is one environment variable that the rest of pulumi-jit already reads, so the plugin, the CLI and
 * the TypeScript resources find things the same way. Credentials are never configuration: they
 * stay in the plugin's environment (the cloud's usual variables, profiles and identities), and
 * never reach the stack's state or config.
 */
export const CONFIG_KEYS = {
  ledger: { env: "JIT_LEDGER", url: true, description: "The ledger: a SQLite path or a ledger URL (default `$JIT_LEDGER`, else `~/.pulumi-jit/ledger.db`)." },
  brokerUrl: { env: "JIT_BROKER_URL", url: true, description: "The access broker's URL, for programs that reach pulumi-jit through a broker (default `$JIT_BROKER_URL`)." },
  azureEndpoint: { env: "JIT_AZURE_ENDPOINT", url: true, description: "The Azure Resource Manager endpoint (default `$JIT_AZURE_ENDPOINT`, else `https://management.azure.com`)." },
  azureCaFile: { env: "JIT_AZURE_CA_FILE", url: false, description: "A PEM file of certificate authorities to trust for the Azure endpoint, on top of the system's." },
  awsRegion: { env: "AWS_REGION", url: false, description: "The AWS region for instances given by bare id (default: the AWS CLI's order of `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile)." },
  awsEndpoint: { env: "AWS_ENDPOINT_URL", url: true, description: "One endpoint for EC2, STS and IAM (default: the SDK's own resolution)." },
} as const satisfies Record<string, { env: string; url: boolean; description: string }>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export type ProviderConfig = Partial<Record<ConfigKey, string>>;

/** Keys the engine adds to every provider's configuration on its own. */
const ENGINE_KEYS = new Set(["version", "pluginDownloadURL"]);
/** Names that say "credential": refused with advice rather than as merely unknown. */
const CREDENTIAL_LIKE = /secret|password|token|key|credential/i;
const MAX_VALUE = 2048;

export interface ConfigFailure {
  property: string;
  reason: string;
}

/**
 * Validates configuration as the engine sends it (CheckConfig's `news`, Configure's `args`; values
 * may be strings, secret-unwrapped already, or the unknown sentinel during preview). Returns the
 * known string values and a failure per bad key.
 */
export function checkConfig(raw: Record<string, unknown>, isUnknown: (v: unknown) => boolean): { config: ProviderConfig; failures: ConfigFailure[] } {
  const config: ProviderConfig = {};
  const failures: ConfigFailure[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (ENGINE_KEYS.has(key) || value === undefined || value === null) continue;
    if (!(key in CONFIG_KEYS)) {
      failures.push({
        property: key,
        reason: CREDENTIAL_LIKE.test(key)
          ? "pulumi-jit takes no credentials as configuration; give them to the plugin's environment as the cloud's own tools expect (for example AWS_PROFILE, or az login)"
          : `is not a pulumi-jit setting; the settings are ${Object.keys(CONFIG_KEYS).join(", ")}`,
      });
      continue;
    }
    if (isUnknown(value)) continue;
    const problem = valueProblem(key as ConfigKey, value);
    if (problem) failures.push({ property: key, reason: problem });
    else config[key as ConfigKey] = value as string;
  }
  return { config, failures };
}

function valueProblem(key: ConfigKey, value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return "must be a non-empty string";
  if (value.length > MAX_VALUE) return `is longer than ${MAX_VALUE} characters`;
  if (!CONFIG_KEYS[key].url || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL`;
  }
  // A password in a URL would be written to the stack's config and state in plain text.
  if (url.password || url.username) return "must not carry a user name or password; give credentials to the plugin's environment instead";
  return undefined;
}

/**
 * Makes the configuration the plugin's environment. The engine starts one plugin process per
 * provider, so this process serves exactly one configuration; keys not set keep what the
 * environment the engine started the plugin with says.
 */
export function applyConfig(config: ProviderConfig, env: NodeJS.ProcessEnv = process.env): void {
  for (const [key, value] of Object.entries(config) as [ConfigKey, string][]) env[CONFIG_KEYS[key].env] = value;
}

/** Throws the first failure as a JitError naming the key (for Configure, which has no failure list). */
export function requireValidConfig(failures: readonly ConfigFailure[]): void {
  if (failures.length === 0) return;
  const [first] = failures;
  throw new JitError("InvalidInput", `${first.reason}${failures.length > 1 ? ` (and ${failures.length - 1} more problem(s))` : ""}`, { field: `pulumi-jit:${first.property}` });
}
