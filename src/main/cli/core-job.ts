// The CLI as a host of the core: open a project's Core, run one of its jobs to the end while a
// progress bar follows job.progress, and turn Ctrl-C into jobs.cancel (a second Ctrl-C exits).
import { assertProject, ProjectError } from '../../store/db';
import { CancelledError } from '../../shared/progress';
import type { ConcordCore, JobInfo } from '../../shared/api';
import type { CoreOptions } from '../core/app';
import type { Io } from './io';
import { progressPrinter } from './progress-bar';

/** The project's core; a folder that is not a project fails as `assertProject` says (the core would create one). */
export async function openCore(dir: string, options: CoreOptions = {}): Promise<ConcordCore> {
  assertProject(dir);
  const { createCore } = await import('../core/app');
  return createCore(dir, options);
}

/** A job that ended cancelled: cli.ts prints the resume hint and exits 130. */
class JobCancelledError extends CancelledError {
  constructor(message: string) {
    super();
    this.message = message;
  }
}

/** A job that failed, or a request the core refused: its message is the whole story (cli.ts prints it, exit 1). */
export class JobFailedError extends Error {}

/**
 * The core's refusal of a request ("a train job is already running", "no trained run yet") is a
 * message for the user; a payload the contract rejects stays as it is (a usage mistake), and so
 * does a programming error, whose stack matters.
 */
function refusal(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) return e;
  if (/^bad [\w.]+ request: /.test(e.message) || e instanceof ProjectError || e instanceof CancelledError) return e;
  return new JobFailedError(e.message);
}

export interface RunCoreJobOptions {
  io: Io;
  /** --json: no progress bar */
  json: boolean;
  /** printed on the first Ctrl-C */
  cancelling: string;
  /** other events of this job, once its id is known */
  watch?: (jobId: string, bar: ReturnType<typeof progressPrinter>) => Array<() => void>;
  /** awaited after the job ends, before its result is returned (output still being printed) */
  settle?: () => Promise<void>;
}

/**
 * Start a job with `start` (a core request returning JobInfo) and wait for its job.done result;
 * job.error rejects (with a CancelledError when the job was cancelled).
 */
export async function runCoreJob<T>(core: ConcordCore, start: () => Promise<JobInfo>, o: RunCoreJobOptions): Promise<T> {
  const bar = progressPrinter({ quiet: o.json });
  // The registry starts the job body on a later tick, so subscribing after the reply misses nothing.
  const { jobId } = await start().catch((e: unknown) => {
    throw refusal(e);
  });
  let cancelled = false;
  const onInt = () => {
    if (cancelled) process.exit(130);
    cancelled = true;
    bar.end();
    o.io.err(o.cancelling);
    void core.request('jobs.cancel', { jobId });
  };
  process.on('SIGINT', onInt);
  const offs: Array<() => void> = [];
  try {
    const result = await new Promise<T>((ok, fail) => {
      offs.push(
        core.on('job.progress', (e) => e.jobId === jobId && bar(e.progress)),
        core.on('job.done', (e) => e.jobId === jobId && ok(e.result as T)),
        core.on('job.error', (e) => {
          if (e.jobId !== jobId) return;
          void core.request('jobs.list', {}).then(
            (jobs) =>
              fail(
                jobs.find((j) => j.jobId === jobId)?.status === 'cancelled' ? new JobCancelledError(e.error) : new JobFailedError(e.error),
              ),
            () => fail(new JobFailedError(e.error)),
          );
        }),
        ...(o.watch?.(jobId, bar) ?? []),
      );
    });
    await o.settle?.();
    return result;
  } finally {
    for (const off of offs) off();
    process.off('SIGINT', onInt);
    bar.end();
  }
}
