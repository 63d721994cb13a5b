export * from "./calls";
export * from "./faults";
export * from "./server";
export { selfSignedCertificate } from "./tls";
export { seededRandom } from "./random";
export { wildcard } from "./wildcard";
