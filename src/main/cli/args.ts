// The one argument parser of every `concord` command: node:util parseArgs in strict mode, with the
// usage mistakes it finds (and the commands' own) thrown as UsageError, which cli.ts prints with
// a pointer to `concord help` and exit code 2, on one line.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { closest } from '../../shared/text';

export { closest };

export class UsageError extends Error {}

/** node:util parseArgs' own mistakes (TypeError with an ERR_PARSE_ARGS_* code) as a UsageError. */
export function asUsageError(e: unknown): UsageError | null {
  if (e instanceof UsageError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return null;
  // parseArgs adds a second sentence on how to pass '-x' as a positional; the first one says it all
  return new UsageError((e as Error).message.replace(/'\. To specify[\s\S]*$/, "'"));
}

/** The one line a usage mistake prints (exit code 2). */
export function usageLine(e: UsageError): string {
  return `concord: ${e.message} (see \`concord help\`)`;
}

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Flags = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  positionals: string[];
  values: Flags;
}

/**
 * Parse `args` against `options`; `--json` is accepted by every command unless `json: false`, and
 * positionals unless `positionals: false`.
 */
export function parse(args: string[], options: Options = {}, opts: { json?: boolean; positionals?: boolean } = {}): Parsed {
  try {
    const r = parseArgs({
      args,
      options: opts.json === false ? options : { json: { type: 'boolean' }, ...options },
      allowPositionals: opts.positionals !== false,
      strict: true,
    });
    return { positionals: r.positionals, values: r.values as Flags };
  } catch (e) {
    const u = asUsageError(e) ?? new UsageError((e as Error).message);
    // `--epoch` for `--epochs`: name the option the user most likely meant
    const unknown = /^Unknown option '--([^']+)'/.exec(u.message)?.[1];
    const guess = unknown ? closest(unknown, [...Object.keys(options), ...(opts.json === false ? [] : ['json'])]) : null;
    throw guess ? new UsageError(`unknown option --${unknown}; did you mean --${guess}?`) : u;
  }
}

/** A string flag that must be given. */
export function need(v: Flags, name: string): string {
  const x = v[name];
  if (typeof x !== 'string' || !x) throw new UsageError(`--${name} is required`);
  return x;
}

/** A string flag, or undefined. */
export function str(v: Flags, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

/** An integer flag, or undefined when absent. */
export function int(v: Flags, name: string): number | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  const n = Number(x);
  if (typeof x !== 'string' || !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${String(x)}"`);
  return n;
}

/** The project folder positional, made absolute. */
export function projectArg(pos: string[], i = 0): string {
  const p = pos[i];
  if (!p) throw new UsageError('a project folder is required');
  return resolve(p);
}

/** A flag that must be one of `choices`. */
export function oneOf<T extends string>(value: string | undefined, choices: readonly T[], message: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(message);
  return value as T;
}
