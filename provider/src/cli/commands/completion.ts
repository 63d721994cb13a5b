import { existsSync } from "node:fs";
import { Argument, Command } from "../commander";
import type { CliContext } from "../context";

/**
 * `jit completion bash|zsh|fish`: a completion script for the shell, made from the commander
 * program itself (commands, flags, choices), so that it cannot fall behind the commands. Policy
 * names and live grant ids come from the ledger, through the hidden `jit __complete`, when the
 * shell asks for one.
 */
export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** The program of a run, which defines its commands as they run and can be asked to define them all. */
interface DefinesAll {
  defineAll(): Command;
}

/** Values the scripts ask `jit __complete` for. */
const LEDGER_VALUES = ["policies", "grants"] as const;
type LedgerValues = (typeof LEDGER_VALUES)[number];

/** Where a value typed after a flag or as an argument comes from. */
type Values = { kind: "words"; words: string[] } | { kind: "ledger"; of: LedgerValues } | { kind: "files" } | { kind: "none" };

interface FlagSpec {
  long?: string;
  short?: string;
  description: string;
  /** Undefined for a flag that takes no value. */
  value?: Values;
}

/** One command as the scripts need it: the words that reach it, what may follow, and where values come from. */
interface CommandSpec {
  path: string;
  subcommands: { name: string; description: string }[];
  flags: FlagSpec[];
  /** The values its positional arguments take (the first that has any). */
  argument?: Values;
}

/** The values that come from the ledger, by the flag or argument (`<command> <argument>`) that takes them. */
const FROM_LEDGER: Record<string, LedgerValues> = {
  "--policy": "policies",
  "policy show <name>": "policies",
  "revoke <grant>": "grants",
  "extend <grant>": "grants",
};

function valuesOf(key: string, valueName: string, choices: readonly string[] | undefined): Values {
  if (choices?.length) return { kind: "words", words: [...choices] };
  const ledger = FROM_LEDGER[key];
  if (ledger) return { kind: "ledger", of: ledger };
  return /file|path/.test(valueName) ? { kind: "files" } : { kind: "none" };
}

function isHidden(cmd: Command): boolean {
  return cmd.name().startsWith("__");
}

/** Every visible command of the program, the program itself first (path ""). */
export function commandSpecs(program: Command): CommandSpec[] {
  // Commander takes the program's options after a command too; --version only before one.
  const globals = flagsOf(program).filter((f) => f.long !== "--version");
  const walk = (cmd: Command, path: string): CommandSpec[] => {
    const visible = cmd.commands.filter((c) => !isHidden(c));
    const argument = cmd.registeredArguments.map((a) => argumentValues(path, a)).find((v) => v.kind !== "none");
    const spec: CommandSpec = {
      path,
      subcommands: visible.map((c) => ({ name: c.name(), description: c.description() })),
      flags: [...(path === "" ? flagsOf(cmd).filter((f) => f.long === "--version") : flagsOf(cmd)), ...globals, { long: "--help", short: "-h", description: "show help" }],
      ...(argument ? { argument } : {}),
    };
    return [spec, ...visible.flatMap((c) => walk(c, path ? `${path} ${c.name()}` : c.name()))];
  };
  return walk(program, "");
}

function flagsOf(cmd: Command): FlagSpec[] {
  return cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      ...(o.long ? { long: o.long } : {}),
      ...(o.short ? { short: o.short } : {}),
      description: o.description,
      ...(o.required || o.optional ? { value: valuesOf(o.long ?? "", /<(.*)>|\[(.*)\]/.exec(o.flags)?.slice(1).join("") ?? "", o.argChoices) } : {}),
    }));
}

function argumentValues(path: string, arg: Argument): Values {
  return valuesOf(`${path} <${arg.name()}>`, arg.name(), arg.argChoices);
}

export function completionScript(shell: Shell, program: Command): string {
  const specs = commandSpecs(program);
  if (shell === "bash") return bashScript(specs);
  if (shell === "zsh") return zshScript(specs);
  return fishScript(specs);
}

const flagWords = (f: FlagSpec) => [f.long, f.short].filter((w): w is string => w !== undefined);

/** A string in single quotes for sh-like shells. */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell words that produce the values: a `case` branch body for bash and zsh. */
function shValues(v: Values, add: (words: string) => string, files: string): string {
  if (v.kind === "words") return add(shQuote(v.words.join(" ")));
  if (v.kind === "ledger") return add(`"$(jit __complete ${v.of} 2>/dev/null)"`);
  if (v.kind === "files") return files;
  return ":";
}

/**
 * The loop both sh-like scripts start with: which command the words typed so far name, in
 * `jit_path` (not `path`, which zsh ties to PATH).
 */
function shPathLoop(specs: CommandSpec[], words: string, from: number, to: string): string {
  const paths = specs.filter((s) => s.path !== "").map((s) => shQuote(s.path));
  return [
    `  local jit_path="" w i`,
    `  for ((i = ${from}; i < ${to}; i++)); do`,
    `    w="\${${words}[i]}"`,
    `    case "\${jit_path:+$jit_path }$w" in`,
    `      ${paths.join("|")}) jit_path="\${jit_path:+$jit_path }$w" ;;`,
    `    esac`,
    `  done`,
  ].join("\n");
}

function bashScript(specs: CommandSpec[]): string {
  const add = (words: string) => `COMPREPLY=($(compgen -W ${words} -- "$cur"))`;
  const files = `COMPREPLY=($(compgen -f -- "$cur"))`;
  const valueCases = specs.flatMap((s) =>
    s.flags
      .filter((f) => f.value)
      .map((f) => `    ${shQuote(s.path)}:${flagWords(f).map(shQuote).join(`|${shQuote(s.path)}:`)}) ${shValues(f.value as Values, add, files)}; return ;;`),
  );
  // Flags once a dash is typed; otherwise the subcommands and the argument's values.
  const wordCases = specs.map((s) => {
    const flags = `COMPREPLY=($(compgen -W ${shQuote(s.flags.flatMap(flagWords).join(" "))} -- "$cur"))`;
    const words = `COMPREPLY=($(compgen -W ${shQuote(s.subcommands.map((c) => c.name).join(" "))} -- "$cur"))`;
    const arg = s.argument ? `; ${shValues(s.argument, (w) => `COMPREPLY+=($(compgen -W ${w} -- "$cur"))`, `COMPREPLY+=($(compgen -f -- "$cur"))`)}` : "";
    return `    ${shQuote(s.path)}) if [[ $cur == -* ]]; then ${flags}; else ${words}${arg}; fi ;;`;
  });
  return `# bash completion for jit (pulumi-jit). Load it with:
#   source <(jit completion bash)
# or save it as ~/.local/share/bash-completion/completions/jit
_jit() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
${shPathLoop(specs, "COMP_WORDS", 1, "COMP_CWORD")}
  case "$jit_path:$prev" in
${valueCases.join("\n")}
  esac
  case "$jit_path" in
${wordCases.join("\n")}
  esac
}
complete -o default -F _jit jit
`;
}

function zshScript(specs: CommandSpec[]): string {
  // _describe takes "word:description"; a colon inside the word would end it.
  const described = (name: string, description: string) => shQuote(`${name.replace(/:/g, "\\:")}:${description}`);
  const add = (words: string) => `compadd -- \${=\${:-${words}}}`;
  const valueCases = specs.flatMap((s) =>
    s.flags
      .filter((f) => f.value)
      .map((f) => `    (${flagWords(f).map((w) => shQuote(`${s.path}:${w}`)).join("|")}) ${shValues(f.value as Values, add, "_files")}; return ;;`),
  );
  const wordCases = specs.map((s) => {
    const commands = s.subcommands.map((c) => described(c.name, c.description)).join(" ");
    const flags = s.flags.flatMap((f) => flagWords(f).map((w) => described(w, f.description))).join(" ");
    const arg = s.argument ? `\n      [[ $PREFIX == -* ]] || { ${shValues(s.argument, add, "_files")}; }` : "";
    return [
      `    (${shQuote(s.path)})`,
      ...(commands ? [`      local -a commands=(${commands})`, `      [[ $PREFIX == -* ]] || _describe -t commands 'jit command' commands`] : []),
      `      local -a flags=(${flags})`,
      `      _describe -t options 'option' flags${arg}`,
      `      ;;`,
    ].join("\n");
  });
  return `#compdef jit
# zsh completion for jit (pulumi-jit). Load it with:
#   source <(jit completion zsh)
# or save it as _jit in a directory of your $fpath
_jit() {
${shPathLoop(specs, "words", 2, "CURRENT")}
  case "$jit_path:\${words[CURRENT-1]}" in
${valueCases.join("\n")}
  esac
  case "$jit_path" in
${wordCases.join("\n")}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _jit "$@"
else
  compdef _jit jit
fi
`;
}

function fishScript(specs: CommandSpec[]): string {
  const q = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const at = (path: string) => `-n ${q(`__jit_at ${q(path)}`)}`;
  const fishValues = (v: Values) =>
    v.kind === "words" ? `-f -a ${q(v.words.join(" "))}` : v.kind === "ledger" ? `-f -a ${q(`(jit __complete ${v.of} 2>/dev/null)`)}` : v.kind === "files" ? "-F" : "-f";
  const lines = specs.flatMap((s) => [
    ...s.subcommands.map((c) => `complete -c jit ${at(s.path)} -f -a ${q(c.name)} -d ${q(c.description)}`),
    ...s.flags.map((f) => {
      const names = [f.long ? `-l ${q(f.long.slice(2))}` : "", f.short ? `-s ${q(f.short.slice(1))}` : ""].filter(Boolean).join(" ");
      return `complete -c jit ${at(s.path)} ${names}${f.value ? ` -r ${fishValues(f.value)}` : ""} -d ${q(f.description)}`;
    }),
    ...(s.argument ? [`complete -c jit ${at(s.path)} ${fishValues(s.argument)}`] : []),
  ]);
  const paths = specs.filter((s) => s.path !== "").map((s) => q(s.path));
  return `# fish completion for jit (pulumi-jit). Load it with:
#   jit completion fish | source
# or save it as ~/.config/fish/completions/jit.fish
function __jit_path --description 'the jit command the words typed so far name'
    set -l path
    for w in (commandline -opc)[2..-1]
        switch (string join -- ' ' $path $w)
            case ${paths.join(" ")}
                set path $path $w
        end
    end
    string join -- ' ' $path
end
function __jit_at --description 'whether the words typed so far name this jit command'
    set -l path (__jit_path)
    test "$path" = "$argv[1]"
end
complete -c jit -f
${lines.join("\n")}
`;
}

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command("completion")
    .description("print a shell completion script (commands, flags, policy names and grant ids)")
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .addHelpText(
      "after",
      `
Examples:
  jit completion bash > ~/.local/share/bash-completion/completions/jit
  jit completion zsh > "\${fpath[1]}/_jit"
  jit completion fish > ~/.config/fish/completions/jit.fish

Or for this shell only: source <(jit completion bash). Policy names and live grant ids are read
from the ledger ($JIT_LEDGER or --ledger) as you complete them.`,
    )
    .action((shell: Shell, _opts: unknown, cmd: Command) => {
      // A run defines only the command it runs (cli/program.ts); the script describes them all.
      ctx.output(cmd).print(completionScript(shell, (program as Command & DefinesAll).defineAll()));
    });

  // What the scripts call for values that live in the ledger: one per line. Completing never creates a ledger.
  program
    .command("__complete", { hidden: true })
    .addArgument(new Argument("<what>").choices(LEDGER_VALUES))
    .action(async (what: LedgerValues, _opts: unknown, cmd: Command) => {
      const path = ctx.ledgerPath(cmd);
      if (!existsSync(path)) return;
      const ledger = await ctx.modules.ledger.openLedger(path);
      try {
        const names =
          what === "policies"
            ? (await ledger.listPolicies()).map((r) => r.policy.name)
            : (await ledger.listGrants({ state: ["pending", "applying", "active"] })).map((g) => g.id);
        ctx.output(cmd).print(names.map((n) => `${n}\n`).join(""));
      } finally {
        await ledger.close();
      }
    });
}
