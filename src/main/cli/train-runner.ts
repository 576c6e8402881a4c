// Runs one trainer process (core/jobs.ts) for a command and prints its events: the run line, a
// progress bar, warnings, one line per epoch. Ctrl-C cancels after the current batch (the last
// checkpoint stays usable); a second Ctrl-C kills the process.
import { startTrainerJob, type TrainerJob, type TrainerLauncher } from '../core/jobs';
import type { StartInput, TrainerResult } from '../../trainer/protocol';
import type { Io } from './io';
import { progressPrinter } from './progress-bar';
import { printEpoch, printRun } from './train-output';

export const CANCELLING = 'cancelling after the current batch… (Ctrl-C again to kill; the last checkpoint stays usable)';

export interface RunJobOptions {
  projectDir: string;
  message: Omit<StartInput, 'type' | 'projectDir'>;
  json: boolean;
  io: Io;
  launch?: TrainerLauncher;
}

/** Runs one trainer job to its end, printing events; returns the result (throws TrainerError). */
export async function runTrainerJob(o: RunJobOptions): Promise<TrainerResult> {
  const job: TrainerJob = startTrainerJob({ projectDir: o.projectDir, message: o.message, launch: o.launch });
  const bar = progressPrinter({ quiet: o.json });
  let epochs: number | null = null;
  job.on('run', (m) => {
    epochs = (m.config as { epochs?: number }).epochs ?? null;
    bar.end();
    printRun(o.io, o.json, m);
  });
  job.on('progress', (m) => bar(m.progress));
  job.on('warning', (m) => {
    bar.end();
    o.io.err(`warning: ${m.message}`);
  });
  job.on('epoch', (m) => {
    bar.end();
    printEpoch(o.io, o.json, m.runId, m.metrics, epochs);
  });
  job.on('paused', () => o.io.err('paused'));
  job.on('resumed', () => o.io.err('resumed'));
  let interrupts = 0;
  const onInt = () => {
    interrupts++;
    if (interrupts > 1) {
      job.kill();
      return;
    }
    bar.end();
    o.io.err(CANCELLING);
    job.cancel();
  };
  process.on('SIGINT', onInt);
  try {
    return await job.result;
  } finally {
    process.off('SIGINT', onInt);
    bar.end();
  }
}
