// Test harness for the project's Pulumi dynamic resources; see README.md for how the layers fit.
export { reloadProvider, serializeProvider } from "./serialization";
export type { DynamicProvider, SerializedProvider } from "./serialization";
export { runCrudScript } from "./crud-script";
export type { CrudScript, CrudTrace } from "./crud-script";
export { outputDetails, outputOf, runMockProgram } from "./mock-program";
export type { MockProgramOptions, MockProgramRun, OutputDetails, RegisteredResource } from "./mock-program";
export { HostCallError, startDynamicProviderHost } from "./provider-host";
export type { DynamicProviderHost, HostDiff, HostOptions, HostedProvider, InitFailure } from "./provider-host";
export { assertNoSecretsIn, findSecretsIn } from "./secrets-scan";
export type { SecretFinding } from "./secrets-scan";
export { PROVIDER_KEY, UNKNOWN, isSecretWrapper, throughWire, wrapSecret } from "./wire";
export type { PropertyMap } from "./wire";
