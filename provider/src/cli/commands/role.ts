import { Command, Option } from "../commander";
import type { CliContext } from "../context";
import { formatTable } from "../output";
import { JitError } from "../../model/errors";
import { ROLE_KINDS, RoleKind } from "../../roles/kinds";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((v) => v.trim()).filter(Boolean)];
}

const kindOption = () =>
  new Option("-k, --kind <kind>", "configure: deploy policies and sweep; request: ask the broker; broker: what `jit serve` runs as; direct: request without a broker; read: scan and inspect").choices(ROLE_KINDS).makeOptionMandatory();

/** `key=value`, the value possibly empty (a tag may have an empty value). */
function parseTag(text: string): { key: string; value: string } {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new JitError("InvalidInput", `"${text}" is not key=value`, { field: "--tag" });
  return { key: text.slice(0, eq), value: text.slice(eq + 1) };
}

export function registerRole(program: Command, ctx: CliContext): void {
  const role = program
    .command("role")
    .description("print a least-privilege Azure role or AWS IAM policy for deploying, requesting or reading")
    .addHelpText(
      "after",
      `
Each action is there for a reason: add --explain to see which, instead of the document.
The same documents are what the Pulumi components azure.JitRole and aws.JitRolePolicy create.`,
    );

  role
    .command("azure")
    .description("an Azure custom role definition (JSON for `az role definition create --role-definition`)")
    .addOption(kindOption())
    .requiredOption("--scope <scope...>", "assignable scope: /subscriptions/<id>, a resource group or resource id (repeatable)", collect)
    .option("--name <name>", "the role's name (unique in the tenant)")
    .option("--description <text>", "the role's description")
    .option("--explain", "list the actions with why each is needed, instead of the JSON")
    .addHelpText(
      "after",
      `
Examples:
  jit role azure --kind request --scope /subscriptions/00000000-0000-0000-0000-000000000000 > jit-request.json
  az role definition create --role-definition @jit-request.json
  jit role azure --kind broker --scope /subscriptions/<id> > jit-broker.json
  jit role azure --kind configure --scope /subscriptions/<id>/resourceGroups/app --name "JIT admins (app)"

The request kind is Defender's request role: requesters write nothing, the broker (\`jit serve\`,
assigned the broker kind) does. The direct kind lets a pipeline request without a broker.`,
    )
    .action((opts: { kind: RoleKind; scope: string[]; name?: string; description?: string; explain?: boolean }, cmd: Command) => {
      const { azureRoleDefinition, AZURE_ACTIONS } = ctx.modules.roles;
      const doc = azureRoleDefinition({
        kind: opts.kind,
        scope: opts.scope,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      });
      const rows = AZURE_ACTIONS.filter((e) => e.kinds.includes(opts.kind)).map(({ action, why }) => ({ action, why }));
      show(ctx, cmd, opts.explain ? rows : undefined, doc);
    });

  role
    .command("aws")
    .description("an AWS IAM policy document (JSON for `aws iam create-policy --policy-document`)")
    .addOption(kindOption())
    .option("--instance-arn <arn...>", "only these instances (repeatable, or comma-separated)", collect)
    .option("--tag <key=value>", "only instances carrying this tag", parseTag)
    .option("--region <region>", "narrow security group, interface and VPC ARNs to this region")
    .option("--account <id>", "narrow them to this account")
    .option("--principal-arn <arn...>", "the users or roles whose own policies direct requesters may simulate (default any)", collect)
    .option("--explain", "list the actions with why each is needed, instead of the JSON")
    .addHelpText(
      "after",
      `
Examples:
  jit role aws --kind request > jit-request.json
  jit role aws --kind broker --tag jit=enabled > jit-broker.json
  aws iam create-policy --policy-name jit-broker --policy-document file://jit-broker.json
  jit role aws --kind direct --instance-arn arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0

The request kind holds no EC2 action: requesters go through the broker (\`jit serve\`), which
writes with the broker kind. Without --instance-arn or --tag the broker, direct and configure
policies cover every instance of the account. Changes to security
groups are confined to the grant groups pulumi-jit tags (pulumi-jit:role=grant-group); the configure
kind also changes the instances' own groups, as the baseline does.`,
    )
    .action(
      (
        opts: { kind: RoleKind; instanceArn?: string[]; tag?: { key: string; value: string }; region?: string; account?: string; principalArn?: string[]; explain?: boolean },
        cmd: Command,
      ) => {
        const { awsPolicyDocument, awsEntries } = ctx.modules.roles;
        const doc = awsPolicyDocument({
          kind: opts.kind,
          ...(opts.instanceArn ? { instanceArns: opts.instanceArn } : {}),
          ...(opts.tag ? { tag: opts.tag } : {}),
          ...(opts.region ? { region: opts.region } : {}),
          ...(opts.account ? { accountId: opts.account } : {}),
          ...(opts.principalArn ? { principalArns: opts.principalArn } : {}),
        });
        if (opts.kind !== "read" && opts.kind !== "request" && !opts.instanceArn && !opts.tag) {
          ctx.output(cmd).warn("no --instance-arn or --tag: the policy may change the interfaces of every instance in the account");
        }
        const rows = awsEntries(opts.kind).map(({ action, scopes, why }) => ({ action, on: scopes.join(", "), why }));
        show(ctx, cmd, opts.explain ? rows : undefined, doc);
      },
    );
}

/** The document is the command's product: JSON whatever the flags. `--explain` prints its reasons instead. */
function show(ctx: CliContext, cmd: Command, explained: Array<Record<string, string>> | undefined, doc: unknown): void {
  if (!explained) {
    ctx.output(cmd).print(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const columns = Object.keys(explained[0] ?? {}).map((header) => ({ header, value: (r: Record<string, string>) => r[header] }));
  ctx.output(cmd).result(explained, () => formatTable(explained, columns));
}
