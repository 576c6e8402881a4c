-- Concord project store, version 3: the audit trail outlives its frames.
-- Re-importing a shorter annotation file deletes the frames past its end; decisions used to go
-- with them (ON DELETE CASCADE). Now a decision keeps its video name and frame index, and its
-- frame_id turns NULL when the frame goes: an "orphaned" decision, kept and counted, never deleted.
-- SQLite cannot change a column's foreign key in place, so the table is rebuilt (ids kept).

CREATE TABLE decisions_v3 (
  id           INTEGER PRIMARY KEY,
  frame_id     INTEGER REFERENCES frames(id) ON DELETE SET NULL, -- NULL: orphaned (frame removed by a re-import)
  action       TEXT NOT NULL,          -- accept | relabel | keep | exclude | skip | undo | redo
  label_before INTEGER NOT NULL,
  label_after  INTEGER NOT NULL,
  rule         TEXT,
  score        REAL,
  run_id       INTEGER,
  flag_id      INTEGER,
  reverts_id   INTEGER,
  actor        TEXT,
  created_at   TEXT NOT NULL,
  group_id     INTEGER REFERENCES decision_groups(id),
  video_name   TEXT,                   -- the frame's video and 1-based index when decided, so an
  frame_idx    INTEGER                 -- orphaned row still says which frame it was about
);

INSERT INTO decisions_v3 (id, frame_id, action, label_before, label_after, rule, score, run_id, flag_id, reverts_id, actor,
                          created_at, group_id, video_name, frame_idx)
  SELECT d.id, d.frame_id, d.action, d.label_before, d.label_after, d.rule, d.score, d.run_id, d.flag_id, d.reverts_id, d.actor,
         d.created_at, d.group_id, v.name, f.idx
  FROM decisions d LEFT JOIN frames f ON f.id = d.frame_id LEFT JOIN videos v ON v.id = f.video_id;

DROP TABLE decisions;
ALTER TABLE decisions_v3 RENAME TO decisions;

CREATE INDEX decisions_frame ON decisions (frame_id, id);
CREATE INDEX decisions_group ON decisions (group_id, id);
CREATE INDEX decisions_flag ON decisions (flag_id);
CREATE INDEX decisions_orphans ON decisions (video_name, frame_idx) WHERE frame_id IS NULL;
