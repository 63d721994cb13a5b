export * from "./ledger";
export { SqliteLedger, SqliteLedgerOptions } from "./sqlite";
export { defaultLedgerPath } from "./sqlite-db";
export { LEDGER_URL_HELP, OpenLedgerOptions, describeLedger, openLedger, parseLedgerLocation } from "./open";
export { StoreLedger } from "./store-ledger";
