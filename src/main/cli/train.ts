// `concord train | finetune | pretrain | infer | crossfit | eval`: thin commands over the trainer
// process (jobs.ts). Per-epoch lines (or JSON lines with --json) on stdout, a progress bar on stderr,
// Ctrl-C cancels cooperatively (the last checkpoint stays usable; --resume continues).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { EpochMetrics } from '../../shared/api';
import { ABAW8 } from '../../shared/labels';
import { openDb, ProjectError, WriterLock } from '../../store/db';
import { importImages } from '../core/ingest/images';
import { startTrainerJob, TrainerError, type TrainerJob, type TrainerLauncher } from '../core/jobs';
import { BACKENDS, mergeConfigInput, parseTrainConfig } from '../../trainer/config';
import { evaluateFiles } from '../../trainer/eval-files';
import type { StartInput, TrainerResult } from '../../trainer/protocol';
import { formatEta, progressPrinter } from './progress-bar';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

type Values = Record<string, string | boolean | undefined>;

class CliUsageError extends Error {}

const TRAIN_OPTIONS: ParseArgsConfig['options'] = {
  json: { type: 'boolean' },
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

function parse(args: string[], extra: ParseArgsConfig['options'] = {}): { positionals: string[]; values: Values } {
  try {
    const r = parseArgs({ args, options: { ...TRAIN_OPTIONS, ...extra }, allowPositionals: true, strict: true });
    return { positionals: r.positionals, values: r.values as Values };
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
}

function int(v: Values, name: string): number | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  const n = Number(x);
  if (typeof x !== 'string' || !Number.isInteger(n)) throw new CliUsageError(`--${name} must be an integer, got "${String(x)}"`);
  return n;
}

function project(pos: string[]): string {
  if (!pos[0]) throw new CliUsageError('a project folder is required');
  const dir = resolve(pos[0]);
  if (!existsSync(resolve(dir, 'concord.sqlite')))
    throw new ProjectError(`${dir} is not a Concord project (no concord.sqlite); run \`concord init ${pos[0]}\` first`);
  return dir;
}

/** The config a command sends: --config FILE, then the flags over it. */
export function configFromFlags(v: Values): Record<string, unknown> {
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
    throw new CliUsageError('--model must be resnet18, resnet10, small or tiny');
  const backend = v.backend as string | undefined;
  if (backend && !(BACKENDS as readonly string[]).includes(backend))
    throw new CliUsageError(`--backend must be one of ${BACKENDS.join(', ')}`);
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

function fmt(x: number, d = 3): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

/** One readable line per epoch. */
export function formatEpochLine(m: EpochMetrics, epochs: number | null): string {
  const parts = [
    `epoch ${String(m.epoch + 1).padStart(3)}${epochs ? `/${epochs}` : ''}`,
    `loss ${fmt(m.loss.total)} (sup ${fmt(m.loss.sup)} cons ${fmt(m.loss.cons)})`,
    `λ ${fmt(m.lambda)}`,
    `lr ${m.lr.toExponential(2)}`,
  ];
  if (m.val) {
    const e = m.val.ensemble;
    parts.push(`val acc ${fmt(e.accuracy)} F1 ${fmt(e.macroF1)} overall ${fmt(e.overall)}`);
    if (m.val.nets.length > 1) parts.push(`nets ${m.val.nets.map((n) => fmt(n.overall)).join('/')}`);
  }
  parts.push(`${fmt(m.imagesPerSec, 1)} img/s`, `ETA ${formatEta(m.etaSeconds)}`);
  return parts.join('  ');
}

export interface RunJobOptions {
  projectDir: string;
  message: Omit<StartInput, 'type' | 'projectDir'>;
  json: boolean;
  io: Io;
  launch?: TrainerLauncher;
}

/** Runs one trainer job to its end, printing events; returns the result (throws TrainerError). */
export async function runTrainerJob(o: RunJobOptions): Promise<TrainerResult> {
  const job: TrainerJob = startTrainerJob({ projectDir: o.projectDir, message: o.message, launch: o.launch });
  const bar = progressPrinter({ quiet: o.json });
  let epochs: number | null = null;
  job.on('run', (m) => {
    epochs = (m.config as { epochs?: number }).epochs ?? null;
    if (o.json)
      o.io.out(
        JSON.stringify({
          event: 'run',
          runId: m.runId,
          kind: m.kind,
          backend: m.backend,
          device: m.device,
          resumedFromEpoch: m.resumedFromEpoch,
          config: m.config,
        }),
      );
    else {
      bar.end();
      const resumed = m.kind !== 'infer' && m.resumedFromEpoch ? `, resuming after epoch ${m.resumedFromEpoch}` : '';
      o.io.err(`run ${m.runId} (${m.kind}) on ${m.backend} (${m.device})${resumed}`);
    }
  });
  job.on('progress', (m) => bar(m.progress));
  job.on('warning', (m) => {
    bar.end();
    o.io.err(`warning: ${m.message}`);
  });
  job.on('epoch', (m) => {
    bar.end();
    o.io.out(o.json ? JSON.stringify({ event: 'epoch', runId: m.runId, ...m.metrics }) : formatEpochLine(m.metrics, epochs));
  });
  job.on('paused', () => o.io.err('paused'));
  job.on('resumed', () => o.io.err('resumed'));
  let interrupts = 0;
  const onInt = () => {
    interrupts++;
    if (interrupts > 1) {
      job.kill();
      return;
    }
    bar.end();
    o.io.err('cancelling after the current batch… (Ctrl-C again to kill; the last checkpoint stays usable)');
    job.cancel();
  };
  process.on('SIGINT', onInt);
  try {
    return await job.result;
  } finally {
    process.off('SIGINT', onInt);
    bar.end();
  }
}

function finish(io: Io, json: boolean, r: TrainerResult, what: string): number {
  if (json) io.out(JSON.stringify({ event: 'done', ...r }));
  else if (r.status === 'cancelled')
    io.err(`${what} cancelled; run the same command with --resume${r.runId ? ` --run ${r.runId}` : ''} to continue`);
  else {
    const bits = [
      `${what} done`,
      r.runId !== null ? `run ${r.runId}` : null,
      r.predictions !== undefined ? `${r.predictions} predictions` : null,
      r.skippedImages ? `${r.skippedImages} unreadable images skipped` : null,
    ];
    io.out(bits.filter(Boolean).join(', '));
  }
  return r.status === 'cancelled' ? 130 : 0;
}

async function guarded(io: Io, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.err(`concord: ${e.message}\nRun \`concord help\` for usage.`);
      return 2;
    }
    if (e instanceof TrainerError || e instanceof ProjectError) {
      io.err(`concord: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

function resumeFields(v: Values): { resume?: boolean; runId?: number } {
  const runId = int(v, 'run');
  return { resume: Boolean(v.resume) || undefined, runId };
}

/**
 * A one-line note for `train` (random initialisation) with several networks and a strong consistency
 * weight: measured on the demo data, the networks then learn little and agree on few classes
 * (bench/noise-robustness.ts --pretrain-epochs 0), while the paper finetunes pretrained backbones.
 */
export function scratchHint(config: Record<string, unknown>, resume: boolean): string | null {
  const nets = typeof config.nets === 'number' ? config.nets : 3;
  const lambdaMax = typeof config.lambdaMax === 'number' ? config.lambdaMax : 0.9;
  if (resume || nets < 2 || lambdaMax <= 0.5) return null;
  return (
    `note: CCT from random weights with λmax ${lambdaMax}: the paper finetunes pretrained backbones ` +
    '(`concord pretrain`, or `concord finetune --from RUN|FILE`); from scratch on little data the consistency ' +
    'term can keep the networks from learning (set "lambdaMax": 0.5 in --config, or watch the per-network accuracy)'
  );
}

export async function train(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parse(args);
    const dir = project(positionals);
    const json = Boolean(values.json);
    const config = configFromFlags(values);
    const hint = scratchHint(config, Boolean(values.resume));
    if (hint) io.err(hint);
    const r = await runTrainerJob({
      projectDir: dir,
      message: { mode: 'train', config, ...resumeFields(values) },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'training');
  });
}

/** `--from RUN|FILE.safetensors`: a run id of this project or a weights file that must exist. */
function startingWeights(from: string | undefined): { fromRun?: number; fromFile?: string } {
  if (from === undefined) return {};
  if (/^\d+$/.test(from)) return { fromRun: Number(from) };
  const file = resolve(from);
  if (!existsSync(file)) throw new ProjectError(`${file}: file not found (--from takes a run id or a .safetensors file)`);
  return { fromFile: file };
}

export async function finetune(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parse(args, { from: { type: 'string' } });
    const dir = project(positionals);
    const json = Boolean(values.json);
    const resume = resumeFields(values);
    if (!resume.resume && !values.from) throw new CliUsageError('--from RUN|FILE.safetensors is required');
    const source = resume.resume ? {} : startingWeights(values.from as string);
    const r = await runTrainerJob({
      projectDir: dir,
      message: { mode: 'finetune', config: configFromFlags(values), ...resume, ...source },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'finetuning');
  });
}

const IMAGE_FORMATS = ['rafdb', 'affectnet', 'csv'];
const VIDEO_SOURCES = ['abaw', 'video'];

/**
 * Imports an image dataset into the project (its own "videos", source rafdb/affectnet/csv), trains a
 * 'pretrain' run on those images only, then a 'finetune' run from it on the project's video frames.
 */
export async function pretrain(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parse(args, {
      images: { type: 'string' },
      root: { type: 'string' },
      format: { type: 'string' },
      'pretrain-epochs': { type: 'string' },
      'skip-finetune': { type: 'boolean' },
    });
    const dir = project(positionals);
    const json = Boolean(values.json);
    const format = values.format as string | undefined;
    if (!values.images || !values.root) throw new CliUsageError('--images LIST and --root DIR are required');
    if (!format || !IMAGE_FORMATS.includes(format)) throw new CliUsageError('--format must be rafdb, affectnet or csv');
    const config = configFromFlags(values);

    const db = openDb(dir);
    const lock = new WriterLock(dir, 'import');
    try {
      lock.acquire();
      const imp = importImages(db, { list: values.images as string, root: values.root as string, format: format as 'rafdb' });
      for (const w of imp.warnings) io.err(`warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.reason}`);
      const summary = imp.groups.map((g) => `${g.name} ${g.images} images`).join(', ');
      if (json) io.out(JSON.stringify({ event: 'import', ...imp }));
      else io.err(`imported ${summary}`);
    } finally {
      lock.release();
      db.close();
    }

    const preEpochs = int(values, 'pretrain-epochs');
    const pre = await runTrainerJob({
      projectDir: dir,
      message: {
        mode: 'pretrain',
        config: { ...config, ...(preEpochs ? { epochs: preEpochs } : {}), sources: [format] },
        ...resumeFields(values),
      },
      json,
      io,
      launch,
    });
    if (pre.status !== 'done' || values['skip-finetune']) return finish(io, json, pre, 'pretraining');
    if (!json) io.err(`pretraining done (run ${pre.runId}); finetuning on the video frames`);
    // The finetune inherits model and input size from the pretrain run.
    const rest = { ...config };
    delete rest.model;
    delete rest.inputSize;
    const ft = await runTrainerJob({
      projectDir: dir,
      message: { mode: 'finetune', fromRun: pre.runId!, config: { ...rest, sources: VIDEO_SOURCES } },
      json,
      io,
      launch,
    });
    return finish(io, json, ft, 'finetuning');
  });
}

export async function infer(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parse(args);
    const dir = project(positionals);
    const json = Boolean(values.json);
    const backend = values.backend as string | undefined;
    const r = await runTrainerJob({
      projectDir: dir,
      message: { mode: 'infer', runId: int(values, 'run'), config: backend ? { backend } : {} },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'inference');
  });
}

export async function crossfit(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parse(args, { folds: { type: 'string' }, from: { type: 'string' } });
    const dir = project(positionals);
    const json = Boolean(values.json);
    const resume = resumeFields(values);
    const folds = int(values, 'folds');
    if (!resume.resume && (folds === undefined || folds < 2)) throw new CliUsageError('--folds K (K >= 2) is required');
    const r = await runTrainerJob({
      projectDir: dir,
      message: {
        mode: 'crossfit',
        folds,
        config: configFromFlags(values),
        ...resume,
        ...(resume.resume ? {} : startingWeights(values.from as string | undefined)),
      },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'cross-fit');
  });
}

export async function evalCommand(args: string[], io: Io): Promise<number> {
  return guarded(io, async () => {
    let values: Values;
    try {
      values = parseArgs({
        args,
        options: { pred: { type: 'string' }, gt: { type: 'string' }, classes: { type: 'string' }, json: { type: 'boolean' } },
        strict: true,
      }).values as Values;
    } catch (e) {
      throw new CliUsageError((e as Error).message);
    }
    if (!values.pred || !values.gt) throw new CliUsageError('--pred DIR and --gt DIR are required');
    const classes = int(values, 'classes');
    if (classes !== undefined && classes !== 7 && classes !== 8) throw new CliUsageError('--classes must be 7 or 8');
    let r;
    try {
      r = evaluateFiles({ predDir: values.pred as string, gtDir: values.gt as string, classes: classes as 7 | 8 | undefined });
    } catch (e) {
      io.err(`concord: ${(e as Error).message}`);
      return 1;
    }
    if (values.json) {
      io.out(JSON.stringify(r));
      return 0;
    }
    const names = ABAW8.slice(0, r.classes);
    io.out(`${r.files} videos, ${r.frames} frames scored (${r.skippedUnannotated} unannotated skipped), ${r.classes} classes`);
    io.out(`accuracy ${fmt(r.accuracy, 4)}  macro F1 ${fmt(r.macroF1, 4)}  overall ${fmt(r.overall, 4)} (0.67 F1 + 0.33 acc)`);
    io.out(`per-class F1: ${names.map((n, i) => `${n} ${fmt(r.perClassF1[i])}`).join('  ')}`);
    io.out('confusion (rows true, columns predicted):');
    const w = Math.max(6, ...r.confusion.flat().map((x) => String(x).length + 1));
    io.out(`${''.padStart(10)}${names.map((n) => n.slice(0, w - 1).padStart(w)).join('')}`);
    r.confusion.forEach((row, i) => io.out(`${names[i].slice(0, 9).padEnd(10)}${row.map((x) => String(x).padStart(w)).join('')}`));
    if (r.unmatchedPredictions.length)
      io.err(
        `warning: ${r.unmatchedPredictions.length} prediction files have no annotation file (${r.unmatchedPredictions.slice(0, 5).join(', ')})`,
      );
    return 0;
  });
}

/** The handlers for src/main/cli/commands.ts. */
export const trainCommands = {
  train: (a: string[], io: Io) => train(a, io),
  finetune: (a: string[], io: Io) => finetune(a, io),
  pretrain: (a: string[], io: Io) => pretrain(a, io),
  infer: (a: string[], io: Io) => infer(a, io),
  crossfit: (a: string[], io: Io) => crossfit(a, io),
  eval: (a: string[], io: Io) => evalCommand(a, io),
};

export { evalCommand as eval };
