// Runs one of the core's trainer jobs for a command (train.start, infer.start or
// train.pretrainFinetune) and prints its events: the run line, a progress bar, warnings, one line
// per epoch. Ctrl-C cancels after the current batch (the last checkpoint stays usable); a second
// Ctrl-C exits, and the trainer process follows when its host is gone.
import type { ConcordCore, JobInfo } from '../../shared/api';
import type { TrainerLauncher } from '../core/app-training';
import { openCore, runCoreJob } from './core-job';
import type { Io } from './io';
import type { progressPrinter } from './progress-bar';
import { printEpoch, printRun } from './train-output';

export const CANCELLING = 'cancelling after the current batch… (Ctrl-C again to kill; the last checkpoint stays usable)';

export interface CoreTrainingOptions {
  projectDir: string;
  /** the request that starts the job */
  start: (core: ConcordCore) => Promise<JobInfo>;
  json: boolean;
  io: Io;
  launch?: TrainerLauncher;
  /** printed between the runs of a chained job (pretrain then finetune) */
  between?: (previousRunId: number) => string;
}

/** Open the project's core, run the job to its end while printing it, close the core. */
export async function runCoreTraining<T>(o: CoreTrainingOptions): Promise<T> {
  const core = await openCore(o.projectDir, o.launch ? { launchTrainer: o.launch } : {});
  try {
    const printer = trainingPrinter(core, o.io, o.json, o.between);
    return await runCoreJob<T>(core, () => o.start(core), { io: o.io, json: o.json, cancelling: CANCELLING, watch: printer });
  } finally {
    await core.close();
  }
}

/** The watch of runCoreJob for trainer jobs: the core relays the trainer's run, warning, epoch and pause messages. */
export function trainingPrinter(core: ConcordCore, io: Io, json: boolean, between?: (previousRunId: number) => string) {
  return (jobId: string, bar: ReturnType<typeof progressPrinter>): Array<() => void> => {
    let epochs: number | null = null;
    let current: number | null = null;
    return [
      core.on('train.run', (e) => {
        if (e.jobId !== jobId) return;
        bar.end();
        if (current !== null && current !== e.runId && between && !json) io.err(between(current));
        current = e.runId;
        epochs = typeof e.config.epochs === 'number' ? e.config.epochs : null;
        printRun(io, json, e);
      }),
      core.on('train.warning', (e) => {
        if (e.jobId !== jobId) return;
        bar.end();
        io.err(`warning: ${e.message}`);
      }),
      core.on('train.epoch', (e) => {
        if (e.jobId !== jobId) return;
        bar.end();
        printEpoch(io, json, e.runId, e.metrics, epochs);
      }),
      core.on('train.paused', (e) => e.jobId === jobId && io.err(e.paused ? 'paused' : 'resumed')),
    ];
  };
}
