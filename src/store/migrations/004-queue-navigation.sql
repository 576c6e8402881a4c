-- Concord project store, version 4: the review queue at a million flags.
-- Flags carry their video's split and their frame's standing decision (the newest label decision
-- not undone, NULL when none; kept in step by the decision code), so every queue filter is a column
-- of the flags table. The queue indexes cover every filter column, so a filtered scan never reads
-- the table. flag_cells counts flags per filter cell and score bucket (bucket = floor(score * 100)
-- clamped to 0..99), kept exact by triggers: totals, positions and offsets sum it and scan at most
-- the one or two buckets a bound falls in.

ALTER TABLE flags ADD COLUMN split TEXT;
ALTER TABLE flags ADD COLUMN decision TEXT;
UPDATE flags SET split = (SELECT v.split FROM videos v WHERE v.id = flags.video_id);
UPDATE flags SET decision = s.action FROM (
  SELECT frame_id, action FROM (
    SELECT d.frame_id, d.action, ROW_NUMBER() OVER (PARTITION BY d.frame_id ORDER BY d.id DESC) AS rn
    FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
    WHERE d.frame_id IS NOT NULL AND d.action IN ('accept','relabel','keep','exclude') AND COALESCE(g.state, 'done') = 'done'
  ) WHERE rn = 1
) s WHERE s.frame_id = flags.frame_id;

-- Same names as before (flags.ts picks them with INDEXED BY), now covering every filter column.
DROP INDEX IF EXISTS flags_queue;
DROP INDEX IF EXISTS flags_any_queue;
DROP INDEX IF EXISTS flags_video_queue;
DROP INDEX IF EXISTS flags_pair_queue;
CREATE INDEX flags_queue ON flags (status, score DESC, id, split, given, suggested, rule, all_agree, decision, video_id);
CREATE INDEX flags_any_queue ON flags (score DESC, id, status, split, given, suggested, rule, all_agree, decision, video_id);
CREATE INDEX flags_video_queue ON flags (video_id, status, score DESC, id, split, given, suggested, rule, all_agree, decision);
-- one filter cell in queue order: a sparse filter's page is a merge of its few cells
CREATE INDEX flags_cell_queue ON flags (status, split, given, suggested, rule, all_agree, decision, score DESC, id);

CREATE TABLE flag_cells (
  status    TEXT NOT NULL,
  bucket    INTEGER NOT NULL,
  split     TEXT NOT NULL,     -- '' for NULL
  given     INTEGER NOT NULL,
  suggested INTEGER NOT NULL,
  rule      TEXT NOT NULL,
  all_agree INTEGER NOT NULL,
  decision  TEXT NOT NULL,     -- '' for NULL
  n         INTEGER NOT NULL,
  PRIMARY KEY (status, bucket, split, given, suggested, rule, all_agree, decision)
) WITHOUT ROWID;

INSERT INTO flag_cells (status, bucket, split, given, suggested, rule, all_agree, decision, n)
  SELECT status, MIN(99, MAX(0, CAST(score * 100 AS INTEGER))), COALESCE(split, ''), given, suggested, rule, all_agree,
         COALESCE(decision, ''), COUNT(*)
  FROM flags GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

CREATE TRIGGER flags_cells_insert AFTER INSERT ON flags BEGIN
  INSERT INTO flag_cells (status, bucket, split, given, suggested, rule, all_agree, decision, n)
    VALUES (NEW.status, MIN(99, MAX(0, CAST(NEW.score * 100 AS INTEGER))), COALESCE(NEW.split, ''), NEW.given, NEW.suggested, NEW.rule,
            NEW.all_agree, COALESCE(NEW.decision, ''), 1)
    ON CONFLICT (status, bucket, split, given, suggested, rule, all_agree, decision) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER flags_cells_delete AFTER DELETE ON flags BEGIN
  UPDATE flag_cells SET n = n - 1
  WHERE status = OLD.status AND bucket = MIN(99, MAX(0, CAST(OLD.score * 100 AS INTEGER))) AND split = COALESCE(OLD.split, '')
    AND given = OLD.given AND suggested = OLD.suggested AND rule = OLD.rule AND all_agree = OLD.all_agree
    AND decision = COALESCE(OLD.decision, '');
END;

CREATE TRIGGER flags_cells_update AFTER UPDATE OF status, score, split, given, suggested, rule, all_agree, decision ON flags
WHEN OLD.status IS NOT NEW.status OR OLD.score IS NOT NEW.score OR OLD.split IS NOT NEW.split OR OLD.given IS NOT NEW.given
  OR OLD.suggested IS NOT NEW.suggested OR OLD.rule IS NOT NEW.rule OR OLD.all_agree IS NOT NEW.all_agree
  OR OLD.decision IS NOT NEW.decision
BEGIN
  UPDATE flag_cells SET n = n - 1
  WHERE status = OLD.status AND bucket = MIN(99, MAX(0, CAST(OLD.score * 100 AS INTEGER))) AND split = COALESCE(OLD.split, '')
    AND given = OLD.given AND suggested = OLD.suggested AND rule = OLD.rule AND all_agree = OLD.all_agree
    AND decision = COALESCE(OLD.decision, '');
  INSERT INTO flag_cells (status, bucket, split, given, suggested, rule, all_agree, decision, n)
    VALUES (NEW.status, MIN(99, MAX(0, CAST(NEW.score * 100 AS INTEGER))), COALESCE(NEW.split, ''), NEW.given, NEW.suggested, NEW.rule,
            NEW.all_agree, COALESCE(NEW.decision, ''), 1)
    ON CONFLICT (status, bucket, split, given, suggested, rule, all_agree, decision) DO UPDATE SET n = n + 1;
END;

-- A video's split never changes on re-import (names are unique across splits); should it, its flags follow.
CREATE TRIGGER videos_split_flags AFTER UPDATE OF split ON videos WHEN OLD.split IS NOT NEW.split BEGIN
  UPDATE flags SET split = NEW.split WHERE video_id = NEW.id;
END;
