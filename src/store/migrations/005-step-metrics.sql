-- Concord project store, version 5: every training step's losses, so curves keep their step
-- resolution after a reload (epoch_metrics keeps one row per epoch). The trainer's recorder writes
-- them in batches; runs.steps serves them downsampled for charts and in full for CSV downloads.
-- x is the global step, epoch x steps per epoch + step (step 1-based within its epoch).

CREATE TABLE step_metrics (
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  x              INTEGER NOT NULL,
  epoch          INTEGER NOT NULL,
  step           INTEGER NOT NULL,
  loss_total     REAL NOT NULL,
  loss_sup       REAL NOT NULL,
  loss_cons      REAL NOT NULL,
  lambda         REAL NOT NULL,
  lr             REAL NOT NULL,
  images_per_sec REAL NOT NULL,
  PRIMARY KEY (run_id, x)
) WITHOUT ROWID;
