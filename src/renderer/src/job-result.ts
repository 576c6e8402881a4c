// Start a job and wait for its end: the job.* events are watched from before the request, so a job
// that ends before its id comes back (a small scoring pass) is not missed.
import type { JobInfo, Progress } from '../../shared/api';
import type { Api } from './api';

export class JobFailedError extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
  }
}

/**
 * Runs `start` (a request that returns a job) and resolves with the job's job.done result, or
 * rejects with its job.error (a JobFailedError). `onStart` gets the job, `onProgress` its progress.
 */
export async function runJob<T>(
  api: Pick<Api, 'on'>,
  start: () => Promise<JobInfo>,
  hooks: { onStart?(job: JobInfo): void; onProgress?(p: Progress): void } = {},
): Promise<T> {
  type End = { ok: true; result: unknown } | { ok: false; error: string };
  const early = new Map<string, End>();
  let jobId: string | null = null;
  let settle: ((e: End) => void) | null = null;
  const end = (id: string, e: End) => {
    if (jobId === null) early.set(id, e);
    else if (id === jobId) settle?.(e);
  };
  const offs = [
    api.on('job.done', (e) => end(e.jobId, { ok: true, result: e.result })),
    api.on('job.error', (e) => end(e.jobId, { ok: false, error: e.error })),
    api.on('job.progress', (e) => {
      if (e.jobId === jobId) hooks.onProgress?.(e.progress);
    }),
  ];
  try {
    const job = await start();
    hooks.onStart?.(job);
    const outcome = await new Promise<End>((resolve) => {
      settle = resolve;
      jobId = job.jobId;
      const seen = early.get(job.jobId);
      if (seen) resolve(seen);
    });
    if (!outcome.ok) throw new JobFailedError(outcome.error, /cancel/i.test(outcome.error));
    return outcome.result as T;
  } finally {
    for (const off of offs) off();
  }
}
