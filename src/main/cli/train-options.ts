// The training commands' arguments: the shared flags, the project check, and the run config from
// --config FILE with the flags over it, validated before any trainer process starts.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertProject, ProjectError } from '../../store/db';
import { BACKENDS, mergeConfigInput, parseTrainConfig } from '../../trainer/config';
import { int, parse, UsageError, type Flags, type Options, type Parsed } from './args';

const TRAIN_OPTIONS: Options = {
  nets: { type: 'string' },
  epochs: { type: 'string' },
  model: { type: 'string' },
  input: { type: 'string' },
  batch: { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  config: { type: 'string' },
  resume: { type: 'boolean' },
  run: { type: 'string' },
};

/** The train options plus a command's own. */
export function parseTrainArgs(args: string[], extra: Options = {}): Parsed {
  return parse(args, { ...TRAIN_OPTIONS, ...extra });
}

/** The project positional: an existing Concord project. */
export function trainProject(pos: string[]): string {
  if (!pos[0]) throw new UsageError('a project folder is required');
  const dir = resolve(pos[0]);
  assertProject(dir);
  return dir;
}

/** The config a command sends: --config FILE, then the flags over it. */
export function configFromFlags(v: Flags): Record<string, unknown> {
  let base: Record<string, unknown> = {};
  if (typeof v.config === 'string') {
    const file = resolve(v.config);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ProjectError(`${file}: cannot read config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      base = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ProjectError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof base !== 'object' || base === null || Array.isArray(base))
      throw new ProjectError(`${file}: must hold a JSON object of config fields`);
  }
  const model = v.model as string | undefined;
  if (model && !['resnet18', 'resnet10', 'small', 'tiny'].includes(model))
    throw new UsageError('--model must be resnet18, resnet10, small or tiny');
  const backend = v.backend as string | undefined;
  if (backend && !(BACKENDS as readonly string[]).includes(backend))
    throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}`);
  const merged = mergeConfigInput(base, {
    nets: int(v, 'nets'),
    epochs: int(v, 'epochs'),
    model,
    inputSize: int(v, 'input'),
    batch: int(v, 'batch'),
    backend,
    seed: int(v, 'seed'),
  });
  // Validate here so a bad field names the file (or the flags) before a process starts.
  const source = typeof v.config === 'string' ? `${resolve(v.config)} with the command-line flags` : 'command-line flags';
  try {
    parseTrainConfig(merged, source);
  } catch (e) {
    throw new ProjectError((e as Error).message);
  }
  return merged;
}

/** `--from RUN|FILE.safetensors`: a run id of this project or a weights file that must exist. */
export function startingWeights(from: string | undefined): { fromRun?: number; fromFile?: string } {
  if (from === undefined) return {};
  if (/^\d+$/.test(from)) return { fromRun: Number(from) };
  const file = resolve(from);
  if (!existsSync(file)) throw new ProjectError(`${file}: file not found (--from takes a run id or a .safetensors file)`);
  return { fromFile: file };
}

/** `--resume [--run ID]`. */
export function resumeFields(v: Flags): { resume?: boolean; runId?: number } {
  const runId = int(v, 'run');
  return { resume: Boolean(v.resume) || undefined, runId };
}
