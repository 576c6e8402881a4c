// In-process registry of the core's long jobs: ids, status, progress, cancel; events out.
import { randomUUID } from 'node:crypto';
import type { JobInfo, JobKind, Progress } from '../../shared/api';
import { CancelledError } from '../../shared/progress';

export interface JobControls {
  signal: AbortSignal;
  progress(p: Progress): void;
}

export interface JobHooks {
  onProgress(job: JobInfo): void;
  onDone(job: JobInfo, result: unknown): void;
  onError(job: JobInfo, error: string): void;
}

interface Entry {
  info: JobInfo;
  abort: AbortController;
  extra?: { pause?(): void; resume?(): void; cancel?(): void };
  /** False for a job that must finish once started (jobs.cancel then says no). */
  cancellable: boolean;
}

export class JobRegistry {
  private readonly jobs = new Map<string, Entry>();

  constructor(private readonly hooks: JobHooks) {}

  /** Run `work` as a job; returns at once with its info. */
  start(kind: JobKind, work: (c: JobControls) => Promise<unknown>, extra?: Entry['extra'], opts: { cancellable?: boolean } = {}): JobInfo {
    const info: JobInfo = { jobId: randomUUID(), kind, status: 'running', progress: null };
    const entry: Entry = { info, abort: new AbortController(), extra, cancellable: opts.cancellable ?? true };
    this.jobs.set(info.jobId, entry);
    const controls: JobControls = {
      signal: entry.abort.signal,
      progress: (p) => {
        info.progress = p;
        this.hooks.onProgress(info);
      },
    };
    // Start on the next tick so the caller gets the job id before any event.
    setImmediate(() => {
      work(controls).then(
        (result) => {
          info.status = 'done';
          this.hooks.onDone(info, result);
        },
        (e: unknown) => {
          if (e instanceof CancelledError || entry.abort.signal.aborted) {
            info.status = 'cancelled';
            info.error = (e as Error).message;
            this.hooks.onError(info, info.error);
            return;
          }
          info.status = 'failed';
          info.error = (e as Error).message ?? String(e);
          this.hooks.onError(info, info.error);
        },
      );
    });
    return { ...info };
  }

  setExtra(jobId: string, extra: Entry['extra']): void {
    const e = this.jobs.get(jobId);
    if (e) e.extra = extra;
  }

  get(jobId: string): JobInfo | undefined {
    return this.jobs.get(jobId)?.info;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((e) => ({ ...e.info }));
  }

  running(kind?: JobKind): JobInfo[] {
    return this.list().filter((j) => (j.status === 'running' || j.status === 'paused') && (!kind || j.kind === kind));
  }

  cancel(jobId: string): boolean {
    const e = this.jobs.get(jobId);
    if (!e || !e.cancellable || (e.info.status !== 'running' && e.info.status !== 'paused')) return false;
    e.abort.abort();
    e.extra?.cancel?.();
    return true;
  }

  pause(jobId: string): boolean {
    const e = this.jobs.get(jobId);
    if (!e?.extra?.pause || e.info.status !== 'running') return false;
    e.extra.pause();
    e.info.status = 'paused';
    return true;
  }

  resume(jobId: string): boolean {
    const e = this.jobs.get(jobId);
    if (!e?.extra?.resume || e.info.status !== 'paused') return false;
    e.extra.resume();
    e.info.status = 'running';
    return true;
  }

  async cancelAll(): Promise<void> {
    for (const j of this.running()) this.cancel(j.jobId);
  }
}
