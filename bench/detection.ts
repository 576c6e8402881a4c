// Label-error detection quality of each flag rule against known true labels.
//   npx tsx bench/detection.ts <project> --gt <ground_truth.csv> [--run ID] [--smooth 0,2,4] [--thresholds 0.1,0.2]
//     a project with predictions (concord infer) built from `concord demo-data` (whose
//     ground_truth.csv has video,frame,true_label,given_label) or any data with known clean labels.
//   npx tsx bench/detection.ts            (no project: a synthetic store with simulated networks,
//     only to exercise the bench; its figures say nothing about CCT)
// A frame is a label error when its current label (the one scored) differs from its true label.
// Per rule: flagged, precision, recall, F1, precision@100 (of the 100 highest-scored flags) and the
// share of true positives whose suggestion is the true label. Reads only: the queue is untouched.
// Prints one JSON line.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb, type Db } from '../src/store/db';
import { upsertVideo } from '../src/store/dataset';
import { putPredictions } from '../src/store/predictions';
import { createRun } from '../src/store/runs';
import { BENCH_RULES, evaluate, readGroundTruth } from './lib/detection-metrics';
import { ABAW7_HEADER } from '../src/shared/labels';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { gt: { type: 'string' }, run: { type: 'string' }, smooth: { type: 'string' }, thresholds: { type: 'string' } },
});

let seed = 3;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

/** Synthetic: 40 videos x 500 frames, segments of one true label, noisy stretches (~20% of frames); 3 nets. */
function syntheticProject(dir: string): { db: Db; truth: Map<string, number> } {
  const db = openDb(dir, { create: true });
  const truth = new Map<string, number>();
  const C = 7;
  const runId = createRun(db, { kind: 'train', config: { synthetic: true } });
  for (let v = 0; v < 40; v++) {
    const n = 500;
    const trueL = new Int8Array(n);
    const given = new Int8Array(n);
    let t = 0;
    let noisy = -1;
    for (let i = 0; i < n; i++) {
      if (rand() < 0.02) t = Math.floor(rand() * C);
      if (rand() < 0.03) noisy = rand() < 0.3 ? Math.floor(rand() * C) : -1; // noisy stretches
      trueL[i] = t;
      given[i] = noisy >= 0 && rand() < 0.9 ? noisy : t;
      truth.set(`s${v}:${i + 1}`, t);
    }
    upsertVideo(
      db,
      { name: `s${v}`, split: 'Train_Set', source: 'abaw', labelSet: 'abaw7', header: ABAW7_HEADER, annotationFile: null, framesDir: null },
      { labels: given, hasFace: new Uint8Array(n).fill(1) },
    );
    const ids = db
      .prepare('SELECT f.id FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = ? ORDER BY f.idx')
      .pluck()
      .all(`s${v}`) as number[];
    const rows = ids.map((frameId, i) => {
      const probs = new Float32Array(3 * C);
      for (let j = 0; j < 3; j++) {
        // each net: right 75% of the time, else it leans to the given (memorised) label or a random one
        const r = rand();
        const c = r < 0.75 ? trueL[i]! : r < 0.9 ? given[i]! : Math.floor(rand() * C);
        const conf = 0.4 + 0.55 * rand();
        for (let k = 0; k < C; k++) probs[j * C + k] = k === c ? conf : (1 - conf) / (C - 1);
      }
      return { frameId, probs };
    });
    putPredictions(db, runId, 3, C, rows);
  }
  return { db, truth };
}

const project = positionals[0];
let tmp: string | null = null;
let db: Db;
let truth: Map<string, number>;
if (project) {
  db = openDb(project, { readonly: false });
  const gt =
    values.gt ?? [join(project, 'ground_truth.csv'), join(dirname(resolve(project)), 'ground_truth.csv')].find((f) => existsSync(f));
  if (!gt) throw new Error(`no ground_truth.csv in ${project} or its parent; pass --gt FILE`);
  truth = readGroundTruth(gt);
} else {
  tmp = mkdtempSync(join(tmpdir(), 'concord-bench-detect-'));
  ({ db, truth } = syntheticProject(tmp));
}
try {
  const runId = values.run ? Number(values.run) : undefined;
  const t0 = performance.now();
  const smooths = (values.smooth ?? '0').split(',').map(Number);
  // --thresholds 0.1,0.2,...: score-threshold at each (a precision/recall sweep) instead of the bench's rule set
  const rules = values.thresholds
    ? values.thresholds.split(',').map((t) => ['score-threshold', Number(t)] as (typeof BENCH_RULES)[number])
    : BENCH_RULES;
  const results = smooths.flatMap((sm) => rules.map(([r, t]) => evaluate(db, truth, r, t, runId, sm)));
  console.log(
    JSON.stringify({
      bench: 'detection',
      synthetic: !project,
      runId: results[0]!.runId,
      scoredFrames: results[0]!.scored,
      labelErrors: results[0]!.errors,
      noiseRate: results[0]!.scored ? Math.round((results[0]!.errors / results[0]!.scored) * 1e4) / 1e4 : null,
      rules: results.map((r) => r.row),
      ms: Math.round(performance.now() - t0),
    }),
  );
} finally {
  db.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
