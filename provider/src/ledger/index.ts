export * from "./ledger";
export { SqliteLedger, SqliteLedgerOptions } from "./sqlite";
export { defaultLedgerPath } from "./sqlite-db";
export { OpenLedgerOptions, describeLedger, openLedger, parseLedgerLocation, storableLedgerProblem } from "./open";
export { StoreLedger } from "./store-ledger";
