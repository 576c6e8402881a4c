// Label-error detection quality of each flag rule against known true labels.
//   npx tsx bench/detection.ts <project> --gt <ground_truth.csv> [--run ID]
//     a project with predictions (concord infer) built from `concord demo-data` (whose
//     ground_truth.csv has video,frame,true_label,given_label) or any data with known clean labels.
//   npx tsx bench/detection.ts            (no project: a synthetic store with simulated networks,
//     only to exercise the bench; its figures say nothing about CCT)
// A frame is a label error when its current label (the one scored) differs from its true label.
// Per rule: flagged, precision, recall, F1, precision@100 (of the 100 highest-scored flags) and the
// share of true positives whose suggestion is the true label. Reads only: the queue is untouched.
// Prints one JSON line.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb, type Db } from '../src/main/core/store/db';
import { upsertVideo } from '../src/main/core/store/dataset';
import { createRun, putPredictions } from '../src/main/core/store/runs';
import { computeFlags } from '../src/main/core/review/flags';
import { ABAW7_HEADER } from '../src/shared/labels';
import type { FlagRule } from '../src/shared/api';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { gt: { type: 'string' }, run: { type: 'string' } } });

/** truth.get(`${video}:${frame}`) = true label */
function readGroundTruth(file: string): Map<string, number> {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const head = lines[0]!.split(',');
  const vi = head.indexOf('video');
  const fi = head.indexOf('frame');
  const ti = head.indexOf('true_label');
  if (vi < 0 || fi < 0 || ti < 0) throw new Error(`${file}:1: expected a header with video,frame,true_label`);
  const m = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const c = lines[i]!.split(',');
    const t = Number(c[ti]);
    if (!Number.isInteger(t)) throw new Error(`${file}:${i + 1}: true_label "${c[ti]}" is not an integer`);
    m.set(`${c[vi]}:${c[fi]}`, t);
  }
  return m;
}

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

function evaluate(db: Db, truth: Map<string, number>, rule: FlagRule, threshold: number | undefined, runId: number | undefined) {
  const { result, flags } = computeFlags(db, { rule, threshold, runId });
  // every scored frame: labelled, with a prediction of the run
  const frames = db
    .prepare(
      `SELECT v.name AS video, f.idx AS idx, l.current_label AS label FROM predictions p JOIN frames f ON f.id = p.frame_id
       JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id WHERE p.run_id = ? AND l.current_label >= 0`,
    )
    .all(result.runId) as { video: string; idx: number; label: number }[];
  let errors = 0;
  let known = 0;
  for (const f of frames) {
    const t = truth.get(`${f.video}:${f.idx}`);
    if (t === undefined || t < 0) continue;
    known++;
    if (t !== f.label) errors++;
  }
  const names = new Map((db.prepare('SELECT id, name FROM videos').all() as { id: number; name: string }[]).map((r) => [r.id, r.name]));
  let tp = 0;
  let tp100 = 0;
  let suggestedRight = 0;
  let judged = 0;
  flags.forEach((fl, rank) => {
    const t = truth.get(`${names.get(fl.videoId)}:${fl.idx}`);
    if (t === undefined || t < 0) return;
    judged++;
    if (t !== fl.given) {
      tp++;
      if (rank < 100) tp100++;
      if (fl.suggested === t) suggestedRight++;
    }
  });
  const precision = judged ? tp / judged : null;
  const recall = errors ? tp / errors : null;
  const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null;
  const r4 = (x: number | null) => (x === null ? null : Math.round(x * 1e4) / 1e4);
  return {
    runId: result.runId,
    row: {
      rule: threshold !== undefined ? `${rule}@${threshold}` : rule,
      flagged: flags.length,
      tp,
      precision: r4(precision),
      recall: r4(recall),
      f1: r4(f1),
      precisionAt100: r4(flags.length ? tp100 / Math.min(100, flags.length) : null),
      suggestionAccuracy: r4(tp ? suggestedRight / tp : null),
    },
    scored: known,
    errors,
  };
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
  const rules: [FlagRule, number | undefined][] = [
    ['all-agree', undefined],
    ['confident-learning', undefined],
    ['score-threshold', 0.5],
    ['score-threshold', 0.3],
  ];
  const results = rules.map(([r, t]) => evaluate(db, truth, r, t, runId));
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
