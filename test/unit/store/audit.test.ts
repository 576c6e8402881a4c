// The decisions table is an append-only audit trail: a re-import that removes frames must not
// delete a single row of it (migration 003 keeps them, orphaned, with their video and index).
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { decide, undo } from '../../../src/main/core/review/decisions';
import { loadMigrations, migrate } from '../../../src/store/db';
import { VideoNameClashError, datasetInfo, getVideo, upsertVideo } from '../../../src/store/dataset';
import { orphanedDecisions, reviewCounts } from '../../../src/store/decisions';
import { ABAW7_HEADER } from '../../../src/shared/labels';
import { makeProject, type TestProject } from './fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

const video = (name: string, split: string, annotationFile: string, contentHash: string) => ({
  name,
  split,
  source: 'abaw',
  labelSet: 'abaw7' as const,
  header: ABAW7_HEADER,
  annotationFile,
  framesDir: null,
  contentHash,
});
const allDecisions = (db: Database.Database) =>
  db.prepare('SELECT id, frame_id, video_name, frame_idx, action FROM decisions ORDER BY id').all() as {
    id: number;
    frame_id: number | null;
    video_name: string | null;
    frame_idx: number | null;
    action: string;
  }[];

describe('audit trail', () => {
  it('keeps decisions on frames that a shorter re-import removes, as orphaned rows with video and index', () => {
    p = makeProject([{ name: 'v', labels: [0, 0, 0, 0, 0] }]);
    decide(p.db, { frameIds: [p.frame('v', 2)], action: 'relabel', label: 3 });
    decide(p.db, { frameIds: [p.frame('v', 4), p.frame('v', 5)], action: 'relabel', label: 6 });
    undo(p.db);
    decide(p.db, { frameIds: [p.frame('v', 5)], action: 'exclude' });
    const before = allDecisions(p.db);
    expect(before).toHaveLength(6); // relabel, 2 relabels, 2 undo rows, exclude

    upsertVideo(p.db, video('v', 'Train_Set', '/ann/v.txt', 'shorter'), { labels: [0, 0, 0], hasFace: [1, 1, 1] });

    const after = allDecisions(p.db);
    expect(after.map((d) => [d.id, d.action, d.video_name, d.frame_idx])).toEqual(before.map((d) => [d.id, d.action, 'v', d.frame_idx]));
    expect(after.filter((d) => d.frame_id === null).map((d) => d.frame_idx)).toEqual([4, 5, 5, 4, 5]); // undo walks its group backwards
    expect(after.find((d) => d.frame_idx === 2)!.frame_id).toBe(p.frame('v', 2));
    expect(orphanedDecisions(p.db, 'v')).toBe(5);
    expect(datasetInfo(p.db).orphanedDecisions).toBe(5);
    // the frame that remains keeps its reviewed label, and undo skips the rows that lost their frame
    expect(undo(p.db)!.changes).toEqual([]);
    expect(undo(p.db)!.changes).toEqual([{ frameId: p.frame('v', 2), before: 3, after: 0 }]);
    expect(reviewCounts(p.db).decisions).toBe(4);
  });

  it('refuses a video name that another split already has, naming both files', () => {
    p = makeProject([]);
    upsertVideo(p.db, video('x', 'Train_Set', '/ann/Train_Set/x.txt', 'a'), { labels: [1, 1], hasFace: [1, 1] });
    const clash = () => upsertVideo(p.db, video('x', 'Validation_Set', '/ann/Validation_Set/x.txt', 'b'), { labels: [2], hasFace: [1] });
    expect(clash).toThrow(VideoNameClashError);
    expect(clash).toThrow('video name "x" is already imported from /ann/Train_Set/x.txt (split Train_Set)');
    expect(getVideo(p.db, 'x')).toMatchObject({ split: 'Train_Set', frame_count: 2, annotation_file: '/ann/Train_Set/x.txt' });
  });
});

describe('003 migration', () => {
  it('rebuilds decisions without the cascade, keeping ids and filling in video name and index', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    const all = loadMigrations();
    migrate(
      db,
      all.filter((m) => m.version <= 2),
    );
    db.exec(`INSERT INTO videos (id, name, split, source, label_set, imported_at) VALUES (1, 'v', 'Train_Set', 'abaw', 'abaw7', 'now');
      INSERT INTO frames (id, video_id, idx, has_face) VALUES (10, 1, 1, 1), (11, 1, 2, 1);
      INSERT INTO labels VALUES (10, 0, 0), (11, 0, 3);
      INSERT INTO decisions (id, frame_id, action, label_before, label_after, created_at) VALUES (7, 11, 'relabel', 0, 3, 'now');`);
    expect(migrate(db, all)).toBeGreaterThanOrEqual(3);
    expect(allDecisions(db)).toEqual([{ id: 7, frame_id: 11, video_name: 'v', frame_idx: 2, action: 'relabel' }]);
    db.exec('DELETE FROM frames WHERE id = 11');
    expect(allDecisions(db)).toEqual([{ id: 7, frame_id: null, video_name: 'v', frame_idx: 2, action: 'relabel' }]);
    db.close();
  });
});
