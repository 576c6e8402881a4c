-- Concord project store, version 2: the review model.
-- Flags carry their frame's video and index so the queue can filter by video and find segments
-- without a join; pair counts live in a small table kept exact by triggers, so the review
-- sidebar never has to GROUP BY a million flags; decisions gain a group (one call = one group)
-- for undo and redo. The decisions table itself stays append-only.

ALTER TABLE flags ADD COLUMN video_id INTEGER;
ALTER TABLE flags ADD COLUMN idx INTEGER;
UPDATE flags SET
  video_id = (SELECT f.video_id FROM frames f WHERE f.id = flags.frame_id),
  idx = (SELECT f.idx FROM frames f WHERE f.id = flags.frame_id);

-- The queue: (status) for the default view, (video, status) for one video, (status, pair) for one
-- cell of the pair table, (score) alone for status = all. All end in score DESC, id for keyset paging.
DROP INDEX IF EXISTS flags_pair;
CREATE INDEX flags_pair_queue ON flags (status, given, suggested, score DESC, id);
CREATE INDEX flags_video_queue ON flags (video_id, status, score DESC, id);
CREATE INDEX flags_any_queue ON flags (score DESC, id);
CREATE INDEX flags_segments ON flags (status, video_id, idx);

CREATE TABLE flag_pair_counts (
  status    TEXT NOT NULL,
  given     INTEGER NOT NULL,
  suggested INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY (status, given, suggested)
) WITHOUT ROWID;

INSERT INTO flag_pair_counts (status, given, suggested, n)
  SELECT status, given, suggested, COUNT(*) FROM flags GROUP BY status, given, suggested;

CREATE TRIGGER flags_count_insert AFTER INSERT ON flags BEGIN
  INSERT INTO flag_pair_counts (status, given, suggested, n) VALUES (NEW.status, NEW.given, NEW.suggested, 1)
    ON CONFLICT (status, given, suggested) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER flags_count_delete AFTER DELETE ON flags BEGIN
  UPDATE flag_pair_counts SET n = n - 1 WHERE status = OLD.status AND given = OLD.given AND suggested = OLD.suggested;
END;

CREATE TRIGGER flags_count_update AFTER UPDATE OF status, given, suggested ON flags
WHEN OLD.status IS NOT NEW.status OR OLD.given IS NOT NEW.given OR OLD.suggested IS NOT NEW.suggested
BEGIN
  UPDATE flag_pair_counts SET n = n - 1 WHERE status = OLD.status AND given = OLD.given AND suggested = OLD.suggested;
  INSERT INTO flag_pair_counts (status, given, suggested, n) VALUES (NEW.status, NEW.given, NEW.suggested, 1)
    ON CONFLICT (status, given, suggested) DO UPDATE SET n = n + 1;
END;

-- One row per decide / undo target: the unit that undo and redo work on. state: done | undone.
-- redoable is set when a group is undone and cleared for every undone group by the next decision.
CREATE TABLE decision_groups (
  id         INTEGER PRIMARY KEY,
  action     TEXT NOT NULL,
  label      INTEGER,
  actor      TEXT,
  frames     INTEGER NOT NULL,
  state      TEXT NOT NULL DEFAULT 'done',
  redoable   INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX decision_groups_state ON decision_groups (state, redoable, id);

-- group_id: the group a decision belongs to; undo/redo rows carry the group they revert or re-apply.
ALTER TABLE decisions ADD COLUMN group_id INTEGER REFERENCES decision_groups(id);
CREATE INDEX decisions_group ON decisions (group_id, id);
CREATE INDEX decisions_flag ON decisions (flag_id);
