export * from "./ledger";
export { SqliteLedger, SqliteLedgerOptions, openLedger } from "./sqlite";
export { defaultLedgerPath } from "./sqlite-db";
