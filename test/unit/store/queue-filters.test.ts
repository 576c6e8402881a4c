// The review queue's filters, offsets and positions against a brute force over the inserted rows:
// every filter alone and in combination, offset / fromEnd / keyset pages with their offsets,
// locate, and the flags' standing-decision column across decide, undo and redo.
import { afterEach, describe, expect, it } from 'vitest';
import { replaceOpenFlags, type NewFlag } from '../../../src/store/flags';
import { locateInQueue, queuePage, queueTotal, QUEUE_TUNING } from '../../../src/store/queue';
import { createRun } from '../../../src/store/runs';
import { decide, redo, undo } from '../../../src/main/core/review/decisions';
import type { FlagRule, QueueFilter, ReviewAction } from '../../../src/shared/api';
import { makeProject, type TestProject } from './fixtures';

let seed = 7;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const RULES: FlagRule[] = ['all-agree', 'confident-learning', 'score-threshold'];
// bucket edges, ties and the ends of [0, 1]: the counts table works in buckets of 0.01
const SCORES = [0, 0.005, 0.01, 0.0999, 0.1, 0.29, 0.3, 0.3, 0.5, 0.5, 0.5, 0.57, 0.99, 0.995, 1];
const LABEL_ACTIONS = ['accept', 'relabel', 'keep', 'exclude'] as const;

let p: TestProject | null = null;
afterEach(() => {
  QUEUE_TUNING.denseScanRows = 60_000;
  p?.cleanup();
  p = null;
});

interface Group {
  action: ReviewAction;
  frames: number[];
  undone: boolean;
}

interface World {
  p: TestProject;
  groups: Group[];
  frameIds: number[];
}

function flagsFor(world: World, runId: number, frames: number[]): NewFlag[] {
  const rows = world.p.db
    .prepare(
      `SELECT f.id, f.video_id, f.idx, l.current_label AS label FROM frames f JOIN labels l ON l.frame_id = f.id WHERE f.id IN (${frames.join(',')})`,
    )
    .all() as { id: number; video_id: number; idx: number; label: number }[];
  return rows.map((r) => {
    const score = rand() < 0.6 ? pick(SCORES) : Math.round(rand() * 1000) / 1000;
    return {
      runId,
      frameId: r.id,
      videoId: r.video_id,
      idx: r.idx,
      rule: pick(RULES),
      given: Math.max(0, r.label),
      suggested: (Math.max(0, r.label) + 1 + Math.floor(rand() * 3)) % 7,
      score,
      allAgree: rand() < 0.5,
      details: null,
    };
  });
}

function act(world: World, action: ReviewAction, frames: number[], label?: number): void {
  decide(world.p.db, { frameIds: frames, action, label });
  world.groups.push({ action, frames, undone: false });
}

function undoLast(world: World): void {
  expect(undo(world.p.db)).not.toBeNull();
  [...world.groups].reverse().find((g) => !g.undone)!.undone = true;
}

/** The standing decision of each frame, from the model of what the test did. */
function standing(world: World): Map<number, string> {
  const m = new Map<number, string>();
  for (const g of world.groups) {
    if (g.undone || g.action === 'skip') continue;
    for (const f of g.frames) m.set(f, g.action);
  }
  return m;
}

/** Four videos in two splits; flags on most frames; decisions, an undo and a redo; a second (bulk) scoring pass. */
function build(): World {
  seed = 7;
  const videos = [
    { name: 'a', split: 'Train_Set', n: 40 },
    { name: 'b', split: 'Train_Set', n: 40 },
    { name: 'c', split: 'Validation_Set', n: 40 },
    { name: 'd', split: 'Validation_Set', n: 6 },
  ];
  p = makeProject(videos.map((v) => ({ name: v.name, split: v.split, labels: Array.from({ length: v.n }, () => Math.floor(rand() * 7)) })));
  const frameIds = (p.db.prepare('SELECT id FROM frames ORDER BY id').pluck().all() as number[]).slice();
  const world: World = { p, groups: [], frameIds };
  const run1 = createRun(p.db, { kind: 'train', config: {} });
  const flagged = frameIds.filter(() => rand() < 0.8);
  replaceOpenFlags(p.db, flagsFor(world, run1, flagged));
  const some = (k: number) => flagged.filter(() => rand() < k);
  act(world, 'accept', some(0.15));
  act(world, 'relabel', some(0.1), 5);
  act(world, 'keep', some(0.1));
  act(world, 'exclude', some(0.1));
  act(world, 'skip', some(0.1));
  undoLast(world); // the skip
  undoLast(world); // the exclude
  expect(redo(p.db)).not.toBeNull(); // the exclude again
  world.groups.find((g) => g.action === 'exclude')!.undone = false;
  act(world, 'keep', some(0.05));
  undoLast(world); // that keep: its frames fall back to their earlier decision, if any
  // a second pass: open flags are replaced (decided stay as history), some on decided frames
  const run2 = createRun(p.db, { kind: 'train', config: {} });
  const kept = [...standing(world)].filter(([, a]) => a === 'keep').map(([f]) => f);
  const again = [...new Set([...frameIds.filter(() => rand() < 0.6), ...kept.slice(0, 4)])];
  replaceOpenFlags(p.db, flagsFor(world, run2, again), { bulk: true });
  return world;
}

interface Row {
  id: number;
  frame_id: number;
  video_id: number;
  given: number;
  suggested: number;
  score: number;
  rule: string;
  all_agree: number;
  status: string;
}

/** The filtered queue by brute force: every flag, filtered in JS, sorted by score desc then id. */
function expected(world: World, filter: QueueFilter): Row[] {
  const db = world.p.db;
  const rows = db.prepare('SELECT id, frame_id, video_id, given, suggested, score, rule, all_agree, status FROM flags').all() as Row[];
  const videos = new Map(
    (db.prepare('SELECT id, name, split FROM videos').all() as { id: number; name: string; split: string }[]).map((v) => [v.id, v]),
  );
  const decided = standing(world);
  const status = filter.status ?? 'open';
  return rows
    .filter(
      (r) =>
        (status === 'all' || r.status === status) &&
        (filter.video === undefined || videos.get(r.video_id)!.name === filter.video) &&
        (filter.split === undefined || videos.get(r.video_id)!.split === filter.split) &&
        (filter.given === undefined || r.given === filter.given) &&
        (filter.suggested === undefined || r.suggested === filter.suggested) &&
        (filter.minScore === undefined || r.score >= filter.minScore) &&
        (filter.maxScore === undefined || r.score <= filter.maxScore) &&
        (filter.rule === undefined || r.rule === filter.rule) &&
        (filter.allAgree === undefined || r.all_agree === (filter.allAgree ? 1 : 0)) &&
        (!filter.actions?.length || filter.actions.includes(decided.get(r.frame_id) as never)),
    )
    .sort((x, y) => y.score - x.score || x.id - y.id);
}

function check(world: World, filter: QueueFilter): void {
  const want = expected(world, filter);
  const ids = want.map((r) => r.id);
  const db = world.p.db;
  const label = JSON.stringify(filter);
  expect(queueTotal(db, filter), label).toBe(want.length);
  for (const offset of [0, 1, 7, Math.floor(want.length / 2), Math.max(0, want.length - 3), want.length, want.length + 5]) {
    const page = queuePage(db, { filter, offset, limit: 7 });
    expect({ filter: label, offset, ids: page.items.map((i) => i.flagId), total: page.total, at: page.offset }).toEqual({
      filter: label,
      offset,
      ids: ids.slice(offset, offset + 7),
      total: want.length,
      at: offset,
    });
  }
  const end = queuePage(db, { filter, fromEnd: true, limit: 7 });
  expect(end.offset, label).toBe(Math.max(0, want.length - 7));
  expect(
    end.items.map((i) => i.flagId),
    label,
  ).toEqual(ids.slice(Math.max(0, want.length - 7)));
  expect(end.next, label).toBeNull();
  // keyset: every page's offset, no overlap, no gap
  const walked: number[] = [];
  let page = queuePage(db, { filter, limit: 5 });
  for (;;) {
    expect(page.offset, label).toBe(walked.length);
    walked.push(...page.items.map((i) => i.flagId));
    if (!page.next) break;
    page = queuePage(db, { filter, after: page.next, limit: 5 });
  }
  expect(walked, label).toEqual(ids);
  // locate: every fourth frame, flagged in this queue or not
  for (const frameId of world.frameIds.filter((_, i) => i % 4 === 0)) {
    const at = want.findIndex((r) => r.frame_id === frameId);
    expect(locateInQueue(db, frameId, filter), `${label} frame ${frameId}`).toEqual({
      flagId: at < 0 ? null : want[at]!.id,
      position: at < 0 ? null : at,
      total: want.length,
    });
  }
}

const SINGLE: QueueFilter[] = [
  {},
  { status: 'decided' },
  { status: 'all' },
  { video: 'b' },
  { video: 'nope' },
  { split: 'Validation_Set' },
  { split: 'Nope_Set' },
  { given: 2 },
  { suggested: 3 },
  { minScore: 0.3 },
  { maxScore: 0.29 },
  { minScore: 0.01, maxScore: 0.5 },
  { minScore: 0.5, maxScore: 0.5 },
  { minScore: 0.6, maxScore: 0.2 },
  { minScore: -1, maxScore: 2 },
  { rule: 'confident-learning' },
  { allAgree: true },
  { allAgree: false },
  { actions: [] },
  { actions: ['keep'] },
  { status: 'decided', actions: ['accept', 'relabel'] },
  { status: 'all', actions: ['exclude', 'keep'] },
  { status: 'decided', actions: ['keep'] },
];

function randomFilter(): QueueFilter {
  const f: QueueFilter = {};
  if (rand() < 0.5) f.status = pick(['open', 'decided', 'all'] as const);
  if (rand() < 0.2) f.video = pick(['a', 'b', 'c', 'd']);
  if (rand() < 0.35) f.split = pick(['Train_Set', 'Validation_Set']);
  if (rand() < 0.3) f.given = Math.floor(rand() * 7);
  if (rand() < 0.3) f.suggested = Math.floor(rand() * 7);
  if (rand() < 0.35) f.minScore = pick([0, 0.01, 0.1, 0.3, 0.5, 0.42]);
  if (rand() < 0.35) f.maxScore = pick([1, 0.99, 0.5, 0.57, 0.3, 0.77]);
  if (rand() < 0.3) f.rule = pick(RULES);
  if (rand() < 0.3) f.allAgree = rand() < 0.5;
  if (rand() < 0.3) f.actions = LABEL_ACTIONS.filter(() => rand() < 0.5);
  return f;
}

describe('the review queue under every filter', () => {
  it('keeps each flag’s standing decision in step across decide, undo, redo and rescoring', () => {
    const world = build();
    const decided = standing(world);
    const rows = world.p.db.prepare('SELECT frame_id, decision, status FROM flags').all() as {
      frame_id: number;
      decision: string | null;
      status: string;
    }[];
    expect(rows.some((r) => r.decision !== null)).toBe(true);
    expect(rows.some((r) => r.decision !== null && r.status === 'open')).toBe(true); // re-raised on a kept frame
    for (const r of rows) expect(r.decision, `frame ${r.frame_id}`).toBe(decided.get(r.frame_id) ?? null);
    // and the counts table matches the flags it counts
    const cells = world.p.db.prepare('SELECT status, SUM(n) AS n FROM flag_cells GROUP BY status ORDER BY status').all();
    const flags = world.p.db.prepare('SELECT status, COUNT(*) AS n FROM flags GROUP BY status ORDER BY status').all();
    expect(cells).toEqual(flags);
    // one more undo through the decision code: the column follows
    undoLast(world);
    const after = standing(world);
    for (const r of world.p.db.prepare('SELECT frame_id, decision FROM flags').all() as { frame_id: number; decision: string | null }[])
      expect(r.decision).toBe(after.get(r.frame_id) ?? null);
  });

  it('answers each filter alone: pages by offset, fromEnd and keyset, totals and positions', () => {
    const world = build();
    for (const f of SINGLE) check(world, f);
  });

  it('answers filters in combination, by the bucket scan and by the cell merge', () => {
    const world = build();
    seed = 99;
    const combos = Array.from({ length: 50 }, randomFilter);
    combos.push(
      { status: 'all', split: 'Train_Set', given: 3, minScore: 0.1, maxScore: 0.9 },
      { status: 'decided', actions: ['accept'], video: 'a' },
    );
    for (const f of combos) check(world, f);
    QUEUE_TUNING.denseScanRows = 0; // every page a merge of the filter's cells
    for (const f of [...SINGLE, ...combos.slice(0, 20)]) check(world, f);
  });
});
