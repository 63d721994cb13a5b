/**
 * What the CLI prints: aligned tables for people, JSON for pipelines, and progress on stderr so
 * that stdout stays clean for `--json`.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | undefined;
}

export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r) ?? "")));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join("\n");
}

/** Where text goes: a process stream, or a test's buffer. */
export interface Sink {
  write(text: string): unknown;
}

export interface Output {
  json: boolean;
  /** Text that is the command's product whatever the flags (a document, a script), on stdout as is. */
  print(text: string): void;
  /** The command's result: a JSON document with --json, otherwise the text given. */
  result(value: unknown, text: () => string): void;
  /** A progress line for people, on stderr; silent with --json or --quiet. */
  progress(message: string): void;
  warn(message: string): void;
}

export function createOutput(options: { json?: boolean; quiet?: boolean }, streams: { out: Sink; err: Sink } = { out: process.stdout, err: process.stderr }): Output {
  const json = options.json === true;
  return {
    json,
    print(text) {
      streams.out.write(text);
    },
    result(value, text) {
      streams.out.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    },
    progress(message) {
      if (!json && !options.quiet) streams.err.write(`${message}\n`);
    },
    warn(message) {
      streams.err.write(`warning: ${message}\n`);
    },
  };
}

/** "in 42m", "3m ago": how people read expiry times. */
export function relativeTime(target: Date, now: Date): string {
  const ms = target.getTime() - now.getTime();
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : `${(abs / 3_600_000).toFixed(1)}h`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
