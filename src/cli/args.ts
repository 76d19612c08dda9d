/** A small command-line parser: `--name value`, `--name=value`, boolean `--flag`, positionals. */

/** How each option is read: a string value or a flag. */
export type OptionSpec = Readonly<Record<string, 'string' | 'boolean'>>;

/** Parsed arguments: option values by name, and the positional arguments. */
export interface ParsedArgs {
  readonly options: ReadonlyMap<string, string | boolean>;
  readonly positionals: readonly string[];
}

/** A mistake in the command line (reported with the usage text, exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `argv` against `spec`; unknown options and missing values are `UsageError`s. */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const options = new Map<string, string | boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a.length === 2) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      options.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
  }
  return { options, positionals };
}

/** The string value of an option, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** A flag's value. */
export function flagOption(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}

/** A non-negative integer option (decimal; `k`, `M`, `G` suffixes multiply by 10^3, 10^6, 10^9; `Ki`, `Mi`, `Gi` by powers of 2). */
export function sizeOption(args: ParsedArgs, name: string): number | undefined {
  const v = stringOption(args, name);
  if (v === undefined) return undefined;
  return parseSize(v, `--${name}`);
}

/** Parses a size such as `1000`, `10M`, `50Mi`. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)(k|M|G|Ki|Mi|Gi)?$/.exec(text);
  if (m === null) throw new UsageError(`${what} must be a non-negative integer (optionally with k, M, G, Ki, Mi, Gi), got ${JSON.stringify(text)}`);
  const mult: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  const n = Number(m[1]) * (m[2] === undefined ? 1 : mult[m[2]]!);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} is too large: ${text}`);
  return n;
}

/** A port option (0..65535). */
export function portOption(args: ParsedArgs, name: string, fallback: number): number {
  const v = stringOption(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--${name} must be a port number 0..65535, got ${JSON.stringify(v)}`);
  return n;
}
