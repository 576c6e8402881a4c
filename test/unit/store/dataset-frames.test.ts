// dataset.frames' one query against a brute-force filter of every frame.
import { afterEach, describe, expect, it } from 'vitest';
import { datasetFrames, type DatasetFramesFilter, type DatasetFrameRow } from '../../../src/store/dataset';
import { decide, undo } from '../../../src/main/core/review/decisions';
import { makeProject, type TestProject } from './fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

/** 3 videos in 2 splits, with missing faces, unlabelled frames and decisions (one undone, one skip). */
function project(): { all: (DatasetFrameRow & { decided: boolean })[] } {
  p = makeProject([
    { name: 'a', split: 'Train_Set', labels: [0, 1, 2, 3, -1, 5, 6, 0], hasFace: [1, 1, 0, 1, 1, 1, 0, 1] },
    { name: 'b', split: 'Validation_Set', labels: [4, 4, 4, -1, 2], hasFace: [1, 0, 1, 1, 1] },
    { name: 'c', split: 'Train_Set', labels: [6, 5, 4, 3, 2, 1], hasFace: [1, 1, 1, 1, 1, 1] },
  ]);
  decide(p.db, { frameIds: [p.frame('a', 1), p.frame('b', 2)], action: 'relabel', label: 3 });
  decide(p.db, { frameIds: [p.frame('c', 3)], action: 'exclude' });
  decide(p.db, { frameIds: [p.frame('c', 4)], action: 'keep' });
  decide(p.db, { frameIds: [p.frame('a', 6)], action: 'skip' }); // a skip decides nothing
  decide(p.db, { frameIds: [p.frame('b', 5)], action: 'relabel', label: 1 });
  undo(p.db); // ... and that one is undone
  const decided = new Set([p.frame('a', 1), p.frame('b', 2), p.frame('c', 3), p.frame('c', 4)]);
  const all = (
    p.db
      .prepare(
        `SELECT f.id AS frameId, v.name AS video, v.split, f.idx, l.original_label AS original, l.current_label AS current, f.has_face AS hasFace
         FROM frames f JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id ORDER BY f.video_id, f.idx`,
      )
      .all() as (Omit<DatasetFrameRow, 'hasFace'> & { hasFace: number })[]
  ).map((r) => ({ ...r, hasFace: r.hasFace === 1, decided: decided.has(r.frameId) }));
  return { all };
}

function brute(all: ReturnType<typeof project>['all'], f: DatasetFramesFilter): DatasetFrameRow[] {
  return all
    .filter(
      (r) =>
        (f.split === undefined || r.split === f.split) &&
        (f.video === undefined || r.video === f.video) &&
        (f.label === undefined || r.current === f.label) &&
        (f.hasFace === undefined || r.hasFace === f.hasFace) &&
        (f.decided === undefined || r.decided === f.decided),
    )
    .map(({ decided: _d, ...r }) => r);
}

describe('datasetFrames', () => {
  it('matches a brute-force filter for every combination of filters', () => {
    const { all } = project();
    const choices: DatasetFramesFilter[] = [];
    for (const split of [undefined, 'Train_Set', 'Validation_Set', 'nope'])
      for (const video of [undefined, 'a', 'c'])
        for (const label of [undefined, -1, 3, 4])
          for (const hasFace of [undefined, true, false])
            for (const decided of [undefined, true, false]) choices.push({ split, video, label, hasFace, decided });
    for (const filter of choices) {
      const clean = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as DatasetFramesFilter;
      const want = brute(all, clean);
      const got = datasetFrames(p.db, { filter: clean, limit: 500 });
      expect(got, JSON.stringify(clean)).toEqual({ items: want, total: want.length, offset: 0 });
    }
  });

  it('pages with offset and limit, the total always the whole match', () => {
    const { all } = project();
    const seen: DatasetFrameRow[] = [];
    for (let offset = 0; offset < all.length; offset += 4) {
      const page = datasetFrames(p.db, { offset, limit: 4 });
      expect(page.total).toBe(all.length);
      expect(page.offset).toBe(offset);
      seen.push(...page.items);
    }
    expect(seen).toEqual(brute(all, {}));
    expect(datasetFrames(p.db, { offset: 100, limit: 4 })).toEqual({ items: [], total: all.length, offset: 100 });
    const decided = datasetFrames(p.db, { filter: { decided: true }, offset: 1, limit: 2 });
    expect(decided.total).toBe(4);
    expect(decided.items.map((r) => `${r.video}:${r.idx}`)).toEqual(['b:2', 'c:3']);
    expect(decided.items[1]).toMatchObject({ original: 4, current: -1, hasFace: true });
  });

  it('never returns more than 500 rows', () => {
    p = makeProject([{ name: 'big', labels: Array.from({ length: 700 }, (_, i) => i % 7) }]);
    const r = datasetFrames(p.db, { limit: 10_000 });
    expect(r.items).toHaveLength(500);
    expect(r.total).toBe(700);
  });
});
