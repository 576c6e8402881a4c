// Label-error detection quality of one flag rule against known true labels (the demo generator's
// ground_truth.csv: video,frame,true_label,given_label). Shared by bench/detection.ts and
// bench/detection-grid.ts. Reads only: computeFlags does not touch the review queue.
import { readFileSync } from 'node:fs';
import type { Db } from '../../src/store/db';
import { computeFlags } from '../../src/main/core/review/flags';
import type { FlagRule } from '../../src/shared/api';

export const BENCH_RULES: [FlagRule, number | undefined][] = [
  ['all-agree', undefined],
  ['confident-learning', undefined],
  ['score-threshold', 0.5],
  ['score-threshold', 0.3],
];

export /** truth.get(`${video}:${frame}`) = true label */
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

export function evaluate(
  db: Db,
  truth: Map<string, number>,
  rule: FlagRule,
  threshold: number | undefined,
  runId: number | undefined,
  smooth = 0,
  /** a cross-fit's companion run (flags.ts byStretch): default the newest trained run; null: the cross-fit alone */
  companion?: number | null,
) {
  const { result, flags } = computeFlags(db, { rule, threshold, runId, smooth, ...(companion !== undefined ? { companion } : {}) });
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
      rule: `${rule}${threshold !== undefined ? `@${threshold}` : ''}${smooth ? ` smooth ±${smooth}` : ''}${companion === null ? ' cross-fit alone' : ''}`,
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
