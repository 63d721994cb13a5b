/**
 * The AWS functions' bundle entry (dist/serverless/aws.js): one code package, three handlers,
 * `index.http` (the broker), `index.sweep` (the safety-net schedule), `index.expire` (per-grant expiry).
 */
export { handler as http } from "./http";
export { handler as sweep } from "./schedule";
export { handler as expire } from "./expire";
