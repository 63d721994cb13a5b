// The ledger locations `--ledger` takes, for `jit --help` (which loads no store).
export const LEDGER_URL_HELP = `Ledger (--ledger or $JIT_LEDGER):
  /path/ledger.db | sqlite:///path/ledger.db         a SQLite file (default ~/.pulumi-jit/ledger.db; created on first use)
  azuretable://<table>                               Azure Table Storage; account from $AZURE_STORAGE_CONNECTION_STRING
  https://<account>.table.core.windows.net/<table>   Azure Table Storage with DefaultAzureCredential
  dynamodb://<table>?region=<region>[&endpoint=<url>] DynamoDB with the AWS default chain ($AWS_ENDPOINT_URL_DYNAMODB honoured)
  postgres://<user>:<password>@<host>:<port>/<db>[?schema=<name>]  PostgreSQL
  Shared stores are prepared once with \`jit ledger init\`; credentials never appear in messages.`;
