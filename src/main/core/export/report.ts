// The review report (JSON): what changed and how much the reviewer agreed with the flags.
//   changes.perPair        frames per (original → cleaned) label pair
//   flags                  review.counts' numbers under its names (shared/api.ts glossary): flagged,
//                          open, decided (frames with a standing decision), byAction, changed
//   flags.confirmedShare   of the decided flagged frames, the share accepted or relabelled to the
//                          flag's suggestion (null when none was decided)
//   labelDistribution      frames per label before (imported) and after (current); -1 included
//   perVideo               changed and decided frames per video (videos with neither are left out)
import { join } from 'node:path';
import type { Db } from '../../../store/db';
import { changedFrames, effectiveDecisions, labelChangeCounts, labelDistribution, listExports } from '../../../store/exports';
import { reviewTally, type ReviewTally } from '../../../store/decisions';
import { listVideos } from '../../../store/dataset';
import { labelName, type LabelSetId } from '../../../shared/labels';
import { ensureOutputDir, writeFileAtomic, type AtomicOptions } from './atomic';

export const REPORT_FILE = 'review-report.json';

export interface ReviewReport {
  createdAt: string;
  labelSet: LabelSetId;
  videos: number;
  frames: number;
  changes: { total: number; perPair: { from: number; to: number; fromName: string; toName: string; n: number }[] };
  flags: ReviewTally & { confirmed: number; confirmedShare: number | null };
  labelDistribution: { label: number; name: string; before: number; after: number }[];
  perVideo: { video: string; split: string; changed: number; decided: number }[];
  previousExports: number;
}

export function buildReport(db: Db): ReviewReport {
  const videos = listVideos(db);
  const labelSet: LabelSetId = videos.some((v) => v.label_set === 'abaw8') ? 'abaw8' : 'abaw7';
  const pairs = labelChangeCounts(db);
  const decisions = effectiveDecisions(db);
  let decidedFlags = 0;
  let confirmed = 0;
  const perVideo = new Map<number, { video: string; split: string; changed: number; decided: number }>();
  const videoEntry = (id: number, video: string, split: string) => {
    let e = perVideo.get(id);
    if (!e) perVideo.set(id, (e = { video, split, changed: 0, decided: 0 }));
    return e;
  };
  for (const d of decisions) {
    if (d.action === 'skip') continue;
    videoEntry(d.videoId, d.video, d.split).decided++;
    if (d.flagId === null) continue;
    decidedFlags++;
    if (d.action === 'accept' || (d.action === 'relabel' && d.labelAfter === d.suggested)) confirmed++;
  }
  const dist = labelDistribution(db);
  const labels = [...new Set([...dist.before.keys(), ...dist.after.keys()])].sort((a, b) => a - b);
  let frames = 0;
  for (const n of dist.before.values()) frames += n;
  // changed frames per video come from the labels themselves, so changes without an audit row count too
  const byVideo = new Map(videos.map((v) => [v.id, v]));
  for (const c of changedPerVideo(db)) {
    const v = byVideo.get(c.videoId);
    if (v) videoEntry(v.id, v.name, v.split).changed = c.n;
  }
  return {
    createdAt: new Date().toISOString(),
    labelSet,
    videos: videos.length,
    frames,
    changes: {
      total: pairs.reduce((s, p) => s + p.n, 0),
      perPair: pairs.map((p) => ({ ...p, fromName: labelName(p.from, labelSet), toName: labelName(p.to, labelSet) })),
    },
    flags: { ...reviewTally(db), confirmed, confirmedShare: decidedFlags ? confirmed / decidedFlags : null },
    labelDistribution: labels.map((l) => ({
      label: l,
      name: labelName(l, labelSet),
      before: dist.before.get(l) ?? 0,
      after: dist.after.get(l) ?? 0,
    })),
    perVideo: [...perVideo.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e),
    previousExports: listExports(db).length,
  };
}

function changedPerVideo(db: Db): { videoId: number; n: number }[] {
  const m = new Map<number, number>();
  for (const c of changedFrames(db)) m.set(c.videoId, (m.get(c.videoId) ?? 0) + 1);
  return [...m.entries()].map(([videoId, n]) => ({ videoId, n }));
}

export function writeReport(db: Db, outDir: string, opts: AtomicOptions = {}): { report: ReviewReport; files: string[] } {
  const root = ensureOutputDir(outDir);
  const report = buildReport(db);
  const file = join(root, REPORT_FILE);
  writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n', opts);
  return { report, files: [file] };
}
