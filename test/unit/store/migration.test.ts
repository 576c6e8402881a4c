import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { loadMigrations, migrate } from '../../../src/store/db';
import { pairCounts } from '../../../src/store/flags';
import { queuePage } from '../../../src/store/queue';
import { undo } from '../../../src/main/core/review/decisions';

describe('002-review migration', () => {
  it('backfills video and index of existing flags, their pair counts, and treats old decisions as applied', () => {
    const db = new Database(':memory:');
    const all = loadMigrations();
    expect(
      migrate(
        db,
        all.filter((m) => m.version === 1),
      ),
    ).toBe(1);
    db.exec(`INSERT INTO videos (id, name, split, source, label_set, imported_at) VALUES (1, 'v', 'Train_Set', 'abaw', 'abaw7', 'now');
      INSERT INTO frames (id, video_id, idx, has_face) VALUES (10, 1, 1, 1), (11, 1, 2, 1);
      INSERT INTO labels VALUES (10, 0, 0), (11, 0, 3);
      INSERT INTO runs (id, kind, status, config, started_at) VALUES (1, 'train', 'done', '{}', 'now');
      INSERT INTO flags (run_id, frame_id, rule, given, suggested, score, all_agree, status, created_at) VALUES
        (1, 10, 'all-agree', 0, 4, 0.9, 1, 'open', 'now'), (1, 11, 'all-agree', 0, 3, 0.5, 1, 'decided', 'now');
      INSERT INTO decisions (frame_id, action, label_before, label_after, created_at) VALUES (11, 'relabel', 0, 3, 'now');`);
    expect(migrate(db, all)).toBeGreaterThanOrEqual(2);
    expect(queuePage(db).items).toMatchObject([{ frameId: 10, video: 'v', idx: 1, videoId: 1 }]);
    expect(pairCounts(db, 'all')).toEqual([
      { given: 0, suggested: 3, n: 1 },
      { given: 0, suggested: 4, n: 1 },
    ]);
    // a decision from before groups existed is history, not something undo can reach
    expect(undo(db)).toBeNull();
    db.close();
  });
});
