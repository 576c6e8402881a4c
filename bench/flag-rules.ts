// Flag rules and thresholds compared on projects the default path kept (`npx tsx bench/default-path.ts
// --keep DIR`): each project's stored predictions scored again by every setting (computeFlags reads
// only), precision / recall against the generator's ground_truth.csv. One JSON line per project and
// setting; an image list's frames (default-path --dataset images) are matched by their crop's path.
// A project whose newest predictions are a cross-fit's is scored by stretch with its trained run
// (the default) and by the cross-fit alone ("cross-fit alone").
// Usage: npx tsx bench/flag-rules.ts DIR/symmetric-1 DIR/pairflip-1 ... [--smooth 2]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb } from '../src/store/db';
import { evaluate, readGroundTruth } from './lib/detection-metrics';
import type { FlagRule } from '../src/shared/api';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { smooth: { type: 'string', default: '2' } } });
const settings: [FlagRule, number | undefined][] = [
  ['all-agree', undefined],
  ['all-agree', 0.15],
  ['confident-learning', undefined],
  ...[0.25, 0.22, 0.2, 0.18, 0.15, 0.1].map((t): [FlagRule, number] => ['score-threshold', t]),
];
for (const dir of positionals) {
  const byTrack = readGroundTruth(join(dir, 'data', 'ground_truth.csv'));
  const db = openDb(join(dir, 'project'), { readonly: true });
  try {
    // an image list's frames (`--dataset images`) are matched by their crop's track/frame path
    const truth = new Map(byTrack);
    const images = db
      .prepare(
        'SELECT v.name AS video, f.idx, f.image_path AS path FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.image_path IS NOT NULL',
      )
      .all() as { video: string; idx: number; path: string }[];
    for (const f of images) {
      const [track, file] = f.path.split(/[\\/]/).slice(-2);
      const t = byTrack.get(`${track}:${Number(file?.replace(/\.jpg$/, ''))}`);
      if (t !== undefined) truth.set(`${f.video}:${f.idx}`, t);
    }
    // a cross-fit scored with its companion (the default, by stretch) and alone
    const crossfit = db.prepare("SELECT 1 FROM runs WHERE kind = 'crossfit' AND parent_run_id IS NULL").get() !== undefined;
    for (const companion of crossfit ? [undefined, null] : [undefined])
      for (const [rule, threshold] of settings) {
        const r = evaluate(db, truth, rule, threshold, undefined, Number(values.smooth), companion);
        console.log(JSON.stringify({ bench: 'flag-rules', project: dir, ...r.row, errors: r.errors }));
      }
  } finally {
    db.close();
  }
}
