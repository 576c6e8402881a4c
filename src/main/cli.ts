// The `concord` command line: a thin transport over the core, like the Electron and HTTP hosts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';

import { openDb, ProjectError, WriterLock, isProjectDir } from '../store/db';
import { datasetInfo } from '../store/dataset';
import { ImportError, importAbaw } from './core/ingest/abaw';
import { importImages } from './core/ingest/images';
import { CancelledError, ProgressTracker } from '../shared/progress';
import { DemoDataError } from './core/demo/errors';
import { progressPrinter } from './cli/progress-bar';
import { ABAW8 } from '../shared/labels';

export const USAGE = `concord — Consensual Collaborative Training for noisy facial-expression labels

Usage:
  concord start [project]              open the desktop app (or the headless host where Electron is missing)
  concord demo [dir]                   make a demo dataset + project and open it
  concord init <project>
  concord import abaw <project> --annotations DIR --frames DIR [--videos DIR] [--verify]
  concord import video <project> --videos DIR --annotations DIR [--detector tiny|ssd] [--detect-every K]
  concord import images <project> --list FILE --root DIR --format rafdb|affectnet|csv
  concord demo-data <dir> [--videos N] [--frames M] [--noise RATE] [--noise-kind symmetric|pairflip|segment] [--seed S]
  concord info <project> [--json]
  concord doctor [--json]
  concord train <project> [--nets N] [--epochs E] [--model resnet18|resnet10|small|tiny] [--input S] [--batch B]
                          [--backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu] [--config FILE] [--resume] [--json]
  concord finetune <project> --from RUN|FILE.safetensors [train options]
  concord pretrain <project> --images LIST --root DIR --format rafdb|affectnet|csv [train options]
  concord infer <project> [--run ID]
  concord eval --pred DIR --gt DIR [--classes 7|8] [--json]
  concord crossfit <project> --folds K [--from RUN|FILE.safetensors] [train options]
  concord flags <project> [--rule all-agree|confident-learning|score-threshold] [--threshold S] [--smooth F (default 2)] [--top K] [--json]
  concord decide <project> --frame VIDEO:FRAME --action accept|relabel:K|keep|exclude|skip
  concord undo <project> | concord redo <project>
  concord export <project> --format abaw|csv|report --out DIR
  concord serve <project> [--port P] [--host H]

Every command takes --json where it prints results; errors go to stderr with exit code 1.
`;

export class UsageError extends Error {}

type Flags = Record<string, string | boolean | undefined>;

function parse(args: string[], options: ParseArgsConfig['options']): { positionals: string[]; values: Flags } {
  try {
    const r = parseArgs({ args, options: { json: { type: 'boolean' }, ...options }, allowPositionals: true, strict: true });
    return { positionals: r.positionals, values: r.values as Flags };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function need(v: Flags, name: string): string {
  const x = v[name];
  if (typeof x !== 'string' || !x) throw new UsageError(`--${name} is required`);
  return x;
}

function projectArg(pos: string[], i = 0): string {
  const p = pos[i];
  if (!p) throw new UsageError('a project folder is required');
  return resolve(p);
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
};

/** Ctrl-C cancels the running job cooperatively (a second Ctrl-C kills). */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onInt = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling… (Ctrl-C again to kill)\n');
    ac.abort();
  };
  process.on('SIGINT', onInt);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', onInt) };
}

function printInfo(io: Io, info: ReturnType<typeof datasetInfo>): void {
  io.out(
    `videos ${info.videos}  frames ${info.frames}  labelled ${info.labelledFrames}  trainable ${info.trainableFrames}  missing crops ${info.missingCrops}  reviewed ${info.reviewedFrames}`,
  );
  for (const [name, s] of Object.entries(info.splits)) {
    io.out(`  ${name}: ${s.videos} videos, ${s.frames} frames, ${s.labelled} labelled, ${s.missingCrops} missing crops`);
    io.out(`    ${s.perClass.map((n, c) => `${ABAW8[c]} ${n}`).join('  ')}`);
  }
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return 0;
      case 'init': {
        const { positionals, values } = parse(rest, {});
        const dir = projectArg(positionals);
        const existed = isProjectDir(dir);
        openDb(dir, { create: true }).close();
        if (values.json) io.out(JSON.stringify({ project: dir, created: !existed }));
        else io.out(existed ? `${dir} is already a Concord project` : `created project ${dir}`);
        return 0;
      }
      case 'import':
        return await importCommand(rest, io);
      case 'info': {
        const { positionals, values } = parse(rest, {});
        const db = openDb(projectArg(positionals), { readonly: true });
        const info = datasetInfo(db);
        db.close();
        if (values.json) io.out(JSON.stringify(info));
        else printInfo(io, info);
        return 0;
      }
      case 'demo-data':
        return await demoDataCommand(rest, io);
      case 'doctor':
        return await (await import('./cli/doctor')).doctorCommand(parse(rest, {}).values, io);
      default: {
        const more = await import('./cli/commands');
        const handler = more.commands[cmd];
        if (!handler) throw new UsageError(`unknown command "${cmd}"`);
        return await handler(rest, io);
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`concord: ${e.message}\nRun \`concord help\` for usage.`);
      return 2;
    }
    if (e instanceof CancelledError || (e as Error)?.name === 'AbortError') {
      io.err(`concord: ${(e as Error).message}; run the same command again to resume`);
      return 130;
    }
    if (e instanceof ProjectError || e instanceof ImportError || e instanceof DemoDataError) {
      io.err(`concord: ${e.message}`);
      return 1;
    }
    io.err(`concord: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

async function importCommand(args: string[], io: Io): Promise<number> {
  const [kind, ...rest] = args;
  const { positionals, values } = parse(rest, {
    annotations: { type: 'string' },
    frames: { type: 'string' },
    videos: { type: 'string' },
    verify: { type: 'boolean' },
    list: { type: 'string' },
    root: { type: 'string' },
    format: { type: 'string' },
    detector: { type: 'string' },
    'detect-every': { type: 'string' },
  });
  const dir = projectArg(positionals);
  const db = openDb(dir, { create: false });
  const lock = new WriterLock(dir, 'import');
  lock.acquire();
  const bar = progressPrinter({ quiet: Boolean(values.json) });
  const intr = interruptSignal();
  try {
    if (kind === 'abaw') {
      const r = importAbaw(db, {
        annotations: need(values, 'annotations'),
        frames: need(values, 'frames'),
        videos: values.videos as string | undefined,
        verify: Boolean(values.verify),
        signal: intr.signal,
        onProgress: bar,
      });
      bar.end();
      for (const w of r.warnings) io.err(`warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.reason}`);
      for (const e of r.errors) io.err(`error: ${e.file}${e.line ? `:${e.line}` : ''}: ${e.reason}`);
      const counts = { inserted: 0, updated: 0, unchanged: 0, failed: 0 };
      for (const v of r.videos) counts[v.outcome]++;
      if (values.json) io.out(JSON.stringify({ ...counts, frames: r.frames, warnings: r.warnings, errors: r.errors }));
      else
        io.out(
          `imported ${r.videos.length - counts.failed} of ${r.videos.length} annotation files (${counts.inserted} new, ${counts.updated} updated, ${counts.unchanged} unchanged), ${r.frames} frame lines`,
        );
      return r.errors.length ? 1 : 0;
    }
    if (kind === 'images') {
      const format = need(values, 'format');
      if (!['rafdb', 'affectnet', 'csv'].includes(format)) throw new UsageError('--format must be rafdb, affectnet or csv');
      const r = importImages(db, {
        list: need(values, 'list'),
        root: need(values, 'root'),
        format: format as 'rafdb',
        signal: intr.signal,
        onProgress: bar,
      });
      bar.end();
      for (const w of r.warnings) io.err(`warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.reason}`);
      if (values.json) io.out(JSON.stringify(r));
      else for (const g of r.groups) io.out(`${g.name}: ${g.images} images (${g.missing} missing)`);
      return 0;
    }
    if (kind === 'video') {
      const { importVideos } = await import('./core/ingest/video-import');
      const r = await importVideos(db, {
        projectDir: dir,
        videos: need(values, 'videos'),
        annotations: need(values, 'annotations'),
        detector: (values.detector as 'ssd' | 'tiny' | undefined) ?? 'tiny',
        detectEvery: values['detect-every'] ? Number(values['detect-every']) : undefined,
        signal: intr.signal,
        onProgress: bar,
      });
      bar.end();
      for (const w of r.warnings) io.err(`warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.reason}`);
      for (const e of r.errors) io.err(`error: ${e.file}${e.line ? `:${e.line}` : ''}: ${e.reason}`);
      if (values.json) io.out(JSON.stringify(r));
      else for (const v of r.videos) io.out(`${v.name}: ${v.frames} frames, ${v.faces} face crops, ${v.fps?.toFixed(2) ?? '?'} fps`);
      return r.errors.length ? 1 : 0;
    }
    throw new UsageError(`unknown import kind "${kind ?? ''}" (abaw, video or images)`);
  } finally {
    intr.dispose();
    lock.release();
    db.close();
  }
}

async function demoDataCommand(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parse(args, {
    videos: { type: 'string' },
    frames: { type: 'string' },
    noise: { type: 'string' },
    'noise-kind': { type: 'string' },
    seed: { type: 'string' },
    size: { type: 'string' },
    'no-video': { type: 'boolean' },
    overwrite: { type: 'boolean' },
  });
  const out = positionals[0];
  if (!out) throw new UsageError('an output folder is required');
  const num = (k: string) => (values[k] === undefined ? undefined : Number(values[k]));
  const kind = values['noise-kind'] as string | undefined;
  if (kind && !['symmetric', 'pairflip', 'segment'].includes(kind))
    throw new UsageError('--noise-kind must be symmetric, pairflip or segment');
  const { generateDemoData } = await import('./core/demo/generate');
  const bar = progressPrinter({ quiet: Boolean(values.json) });
  const intr = interruptSignal();
  // the generator reports counts only; one tracker per phase adds rate and ETA
  const trackers = new Map<string, ProgressTracker>();
  const report = (p: { phase: string; done: number; total: number }): void => {
    let t = trackers.get(p.phase);
    if (!t) trackers.set(p.phase, (t = new ProgressTracker(p.phase, p.total)));
    t.done = p.done;
    bar(t.snapshot());
  };
  try {
    const summary = await generateDemoData({
      outDir: resolve(out),
      videos: num('videos'),
      frames: num('frames'),
      noise: num('noise'),
      noiseKind: kind as 'symmetric' | undefined,
      seed: num('seed'),
      size: num('size'),
      encodeVideos: !values['no-video'],
      overwrite: Boolean(values.overwrite),
      signal: intr.signal,
      onProgress: report,
    });
    bar.end();
    if (values.json) io.out(JSON.stringify(summary));
    else {
      io.out(`demo dataset written to ${resolve(out)}`);
      io.out(
        `next: concord init p && concord import abaw p --annotations "${resolve(out, 'annotations')}" --frames "${resolve(out, 'cropped_aligned')}"`,
      );
    }
    return 0;
  } finally {
    intr.dispose();
  }
}
