// The quality a new user gets on the default path, measured exactly as they would run it:
// `concord demo-data` (the generator's defaults unless given), `init`, `import abaw`, `train` with
// no options, `infer` with no options (which cross-fits where the project's out-of-sample plan
// makes that the default: 12 or more video groups, or an image list, within its budget; the
// row's `predictions` says which), `flags` with no options; then the stored open flags against the generator's
// ground_truth.csv (which the code under test never reads). One JSON line per seed and noise kind,
// then a summary. The CLI is spawned as a user runs it, so the timings include process start.
// With `--dataset images` the same frames are imported as an image list instead (`import images
// --format csv`, one `path,label,split` row per labelled crop): an image-level dataset, scored
// without temporal smoothing, its ground truth matched by image path; `--subjects` adds a fourth
// `subject` column naming each image's source video, which a cross-fit folds by.
// `--infer-args --in-sample` measures the in-sample path instead. With `--out-of-sample K` the
// cross-fit is asked for explicitly: the default train, `crossfit --folds K` (with
// --crossfit-args), then `flags --rescore` on the cross-fit's out-of-sample predictions.
// Usage: npx tsx bench/default-path.ts [--kinds symmetric,pairflip,segment] [--seeds 1,2] [--noise 0.3]
//        [--videos 12] [--frames 150] [--dataset abaw|images [--subjects]] [--train-command train] [--train-args "--epochs 5"]
//        [--infer-args "--in-sample"] [--flags-args ""] [--keep DIR] [--out-of-sample K] [--crossfit-args "--config stretch.json"]
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb } from '../src/store/db';
import { videoGroup } from '../src/trainer/split';
import { readGroundTruth } from './lib/detection-metrics';

const { values } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'symmetric,pairflip,segment' },
    seeds: { type: 'string', default: '1,2' },
    noise: { type: 'string', default: '0.3' },
    videos: { type: 'string', default: '12' },
    frames: { type: 'string', default: '150' },
    'train-args': { type: 'string', default: '' },
    /** an experiment's training command instead of the default path's `train` (e.g. finetune) */
    'train-command': { type: 'string', default: 'train' },
    'infer-args': { type: 'string', default: '' },
    'flags-args': { type: 'string', default: '' },
    keep: { type: 'string' },
    dataset: { type: 'string', default: 'abaw' },
    /** with --dataset images: a fourth CSV column names each image's source video (its subject) */
    subjects: { type: 'boolean', default: false },
    'out-of-sample': { type: 'string' },
    /** more options for the cross-fit of --out-of-sample (e.g. "--config stretch.json") */
    'crossfit-args': { type: 'string', default: '' },
  },
});
if (values.dataset !== 'abaw' && values.dataset !== 'images') throw new Error(`--dataset must be abaw or images, got ${values.dataset}`);

/**
 * An image list of the demo's labelled crops (`path,label,split`, paths relative to cropped_aligned)
 * and the map from each image path back to its track and frame, for the ground truth.
 */
function writeImageList(data: string): { list: string; root: string; refOf: Map<string, string> } {
  const root = join(data, 'cropped_aligned');
  const rows = [values.subjects ? 'path,label,split,subject' : 'path,label,split'];
  const refOf = new Map<string, string>();
  for (const split of readdirSync(join(data, 'annotations'))) {
    for (const file of readdirSync(join(data, 'annotations', split))) {
      const track = file.replace(/\.txt$/, '');
      const labels = readFileSync(join(data, 'annotations', split, file), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(1);
      labels.forEach((l, k) => {
        if (Number(l) < 0) return;
        const path = `${track}/${String(k + 1).padStart(5, '0')}.jpg`;
        rows.push(`${path},${l.trim()},${split}${values.subjects ? `,${videoGroup(track)}` : ''}`);
        refOf.set(path, `${track}:${k + 1}`);
      });
    }
  }
  const list = join(data, 'images.csv');
  writeFileSync(list, rows.join('\n') + '\n');
  return { list, root, refOf };
}

const CLI = join(import.meta.dirname, '..', 'bin', 'concord.mjs');

function concord(args: string[]): { seconds: number; out: string } {
  const t = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`concord ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return { seconds: (Date.now() - t) / 1000, out: r.stdout + r.stderr };
}

const split = (s: string) => s.split(/\s+/).filter(Boolean);
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const rows: Record<string, unknown>[] = [];
for (const kind of values.kinds!.split(',')) {
  for (const seed of values.seeds!.split(',').map(Number)) {
    const root = values.keep ? join(values.keep, `${kind}-${seed}`) : mkdtempSync(join(tmpdir(), 'concord-default-path-'));
    try {
      const data = join(root, 'data');
      const proj = join(root, 'project');
      const t = Date.now();
      concord([
        'demo-data',
        data,
        '--videos',
        values.videos!,
        '--frames',
        values.frames!,
        '--noise',
        values.noise!,
        '--noise-kind',
        kind,
        '--seed',
        String(seed),
      ]);
      concord(['init', proj]);
      const images = values.dataset === 'images' ? writeImageList(data) : null;
      if (images) concord(['import', 'images', proj, '--list', images.list, '--root', images.root, '--format', 'csv']);
      else concord(['import', 'abaw', proj, '--annotations', join(data, 'annotations'), '--frames', join(data, 'cropped_aligned')]);
      const train = concord([values['train-command']!, proj, ...split(values['train-args']!)]);
      const oos = values['out-of-sample'];
      // a cross-fit predicts each video while it trains (out-of-sample): there is nothing to infer
      const infer =
        values['train-command'] === 'crossfit' || oos ? { seconds: 0, out: '' } : concord(['infer', proj, ...split(values['infer-args']!)]);
      const crossfit = oos ? concord(['crossfit', proj, '--folds', oos, ...split(values['crossfit-args'])]) : null;
      const flags = concord(['flags', proj, '--json', '--top', '100000', ...(oos ? ['--rescore'] : []), ...split(values['flags-args']!)]);
      const seconds = (Date.now() - t) / 1000;
      const truth = readGroundTruth(join(data, 'ground_truth.csv'));
      const db = openDb(proj, { readonly: true });
      try {
        const labelled = db
          .prepare(
            'SELECT v.name AS video, f.idx, f.image_path AS imagePath, l.current_label AS label FROM frames f JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id WHERE l.current_label >= 0',
          )
          .all() as { video: string; idx: number; imagePath: string | null; label: number }[];
        // the ground truth's track:frame of a stored frame (an image list's frames by their path)
        const truthRef = (f: { video: string; idx: number; imagePath: string | null }) => {
          if (!images) return `${f.video}:${f.idx}`;
          const rel = f.imagePath?.split(/[\\/]/).slice(-2).join('/');
          const ref = rel === undefined ? undefined : images.refOf.get(rel);
          if (ref === undefined) throw new Error(`image ${f.imagePath} of ${f.video}:${f.idx} is not in the list written`);
          return ref;
        };
        const wrong = new Set(labelled.filter((f) => (truth.get(truthRef(f)) ?? f.label) !== f.label).map((f) => `${f.video}:${f.idx}`));
        const open = JSON.parse(flags.out.split('\n').find((l) => l.startsWith('{'))!) as {
          degenerate: unknown;
          flags: { video: string; idx: number }[];
        };
        const hits = open.flags.filter((f) => wrong.has(`${f.video}:${f.idx}`)).length;
        const run = db.prepare('SELECT config, backend FROM runs ORDER BY id DESC LIMIT 1').get() as { config: string; backend: string };
        const cfg = JSON.parse(run.config) as Record<string, unknown>;
        const row = {
          bench: 'default-path',
          dataset: values.dataset,
          subjects: values.dataset === 'images' ? values.subjects : undefined,
          kind,
          seed,
          noise: Number(values.noise),
          frames: labelled.length,
          wrongLabels: wrong.size,
          flagged: open.flags.length,
          precision: open.flags.length ? r3(hits / open.flags.length) : null,
          recall: wrong.size ? r3(hits / wrong.size) : null,
          degenerate: open.degenerate !== null,
          seconds: {
            total: Math.round(seconds),
            train: Math.round(train.seconds),
            ...(crossfit ? { crossfit: Math.round(crossfit.seconds) } : {}),
            infer: Math.round(infer.seconds),
            flags: Math.round(flags.seconds),
          },
          recipe: {
            model: cfg.model,
            inputSize: cfg.inputSize,
            nets: cfg.nets,
            epochs: cfg.epochs,
            lambdaMax: cfg.lambdaMax,
            init: cfg.init ?? null,
            backend: run.backend,
          },
          trainCommand: [values['train-command'], values['train-args']].filter(Boolean).join(' '),
          inferArgs: values['infer-args'],
          // what the flags were scored on: in-sample, or a cross-fit's out-of-sample predictions
          predictions: (open as { source?: unknown }).source ?? null,
          ...(oos ? { outOfSample: { folds: Number(oos) } } : {}),
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      } finally {
        db.close();
      }
    } finally {
      if (!values.keep) rmSync(root, { recursive: true, force: true });
    }
  }
}
const mean = (xs: number[]) => (xs.length ? r3(xs.reduce((a, b) => a + b, 0) / xs.length) : null);
const byKind = Object.fromEntries(
  values.kinds!.split(',').map((k) => {
    const rs = rows.filter((r) => r.kind === k) as { precision: number | null; recall: number | null; seconds: { total: number } }[];
    return [
      k,
      {
        precision: mean(rs.map((r) => r.precision ?? 0)),
        recall: mean(rs.map((r) => r.recall ?? 0)),
        maxSeconds: Math.max(...rs.map((r) => r.seconds.total)),
      },
    ];
  }),
);
console.log(
  JSON.stringify({
    bench: 'default-path',
    dataset: values.dataset,
    summary: byKind,
    machine: { cpus: cpus().length, model: cpus()[0]?.model },
  }),
);
