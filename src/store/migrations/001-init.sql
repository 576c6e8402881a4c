-- Concord project store, version 1.
-- A "video" is a group of frames with one annotation file: an Aff-Wild2 video (or its _left/_right
-- face), or one split of an image dataset (RAF-DB, AffectNet, CSV).

CREATE TABLE project (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE videos (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,      -- annotation stem, e.g. 12-24-1920x1080_left
  video_file      TEXT,                      -- source video, when known
  fps             REAL,
  frame_count     INTEGER NOT NULL DEFAULT 0, -- annotation lines (or images) indexed
  split           TEXT NOT NULL,             -- Train_Set, Validation_Set, ... as imported
  source          TEXT NOT NULL,             -- abaw | video | rafdb | affectnet | csv
  label_set       TEXT NOT NULL,             -- abaw7 | abaw8
  header          TEXT,                      -- the annotation file's header line, kept for export
  annotation_file TEXT,                      -- absolute path of the imported file
  frames_dir      TEXT,                      -- folder of the 112x112 crops
  content_hash    TEXT,                      -- of the annotation file: re-import of the same bytes is a no-op
  imported_at     TEXT NOT NULL
);

CREATE TABLE frames (
  id         INTEGER PRIMARY KEY,
  video_id   INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  idx        INTEGER NOT NULL,   -- 1-based; annotation line idx+1 (the header is line 1)
  has_face   INTEGER NOT NULL,   -- 0 when the crop is missing: indexed, kept on export, never trained
  image_path TEXT,               -- NULL means frames_dir/{idx:05d}.jpg
  UNIQUE (video_id, idx)
);

-- One row per frame. original_label is what the file said; current_label is after review.
CREATE TABLE labels (
  frame_id       INTEGER PRIMARY KEY REFERENCES frames(id) ON DELETE CASCADE,
  original_label INTEGER NOT NULL,
  current_label  INTEGER NOT NULL
);

CREATE TABLE runs (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL,          -- train | finetune | pretrain | crossfit
  status       TEXT NOT NULL,          -- running | done | cancelled | failed | paused
  config       TEXT NOT NULL,          -- JSON: the full run config
  backend      TEXT,
  device       TEXT,
  versions     TEXT,                   -- JSON
  checkpoint_dir TEXT,
  parent_run_id INTEGER REFERENCES runs(id),
  error        TEXT,
  started_at   TEXT NOT NULL,
  finished_at  TEXT
);

CREATE TABLE epoch_metrics (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch       INTEGER NOT NULL,
  loss_sup    REAL,
  loss_cons   REAL,
  loss_total  REAL,
  lambda      REAL,
  lr          REAL,
  images_per_sec REAL,
  val         TEXT,                    -- JSON: per network and ensemble metrics
  created_at  TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch)
);

-- Per-frame probabilities of every network: N*C float32, network-major.
CREATE TABLE predictions (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
  nets     INTEGER NOT NULL,
  classes  INTEGER NOT NULL,
  probs    BLOB NOT NULL,
  PRIMARY KEY (run_id, frame_id)
) WITHOUT ROWID;

CREATE TABLE flags (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  frame_id   INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
  rule       TEXT NOT NULL,
  given      INTEGER NOT NULL,
  suggested  INTEGER NOT NULL,
  score      REAL NOT NULL,
  all_agree  INTEGER NOT NULL,
  details    TEXT,                     -- JSON: the scores that produced the flag
  status     TEXT NOT NULL DEFAULT 'open', -- open | decided
  created_at TEXT NOT NULL
);
CREATE INDEX flags_queue ON flags (status, score DESC, id);
CREATE INDEX flags_pair ON flags (status, given, suggested);
CREATE INDEX flags_frame ON flags (frame_id);

-- Append-only audit trail of review decisions.
CREATE TABLE decisions (
  id           INTEGER PRIMARY KEY,
  frame_id     INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
  action       TEXT NOT NULL,          -- accept | relabel | keep | exclude | skip | undo | redo
  label_before INTEGER NOT NULL,
  label_after  INTEGER NOT NULL,
  rule         TEXT,
  score        REAL,
  run_id       INTEGER,
  flag_id      INTEGER,
  reverts_id   INTEGER,                -- for undo/redo: the decision it reverts or re-applies
  actor        TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX decisions_frame ON decisions (frame_id, id);

CREATE TABLE exports (
  id         INTEGER PRIMARY KEY,
  format     TEXT NOT NULL,
  out_path   TEXT NOT NULL,
  summary    TEXT,
  created_at TEXT NOT NULL
);
