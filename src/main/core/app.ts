// The application core: implements the contract (src/shared/api.ts) over one project folder.
// Host-agnostic plain Node: the Electron shell, the HTTP/WebSocket host and tests all use it.
import { EventEmitter } from 'node:events';
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, parse, relative, resolve } from 'node:path';
import {
  parseRequest,
  type ConcordCore,
  type EventName,
  type Events,
  type JobInfo,
  type JobKind,
  type Progress,
  type RequestName,
  type RequestPayload,
  type Results,
} from '../../shared/api';
import { ABAW8 } from '../../shared/labels';
import { PathRefusedError } from '../../shared/errors';
import { asBusyError, HOST_BUSY_TIMEOUT_MS, openDb, tryWithoutWaiting, WriterLock, type Db } from '../../store/db';
import { ChangeWatch } from './change-watch';
import { datasetFrames, datasetInfo, imageListCount } from '../../store/dataset';
import { decidedFrameCount } from '../../store/decisions';
import { listFolder, refusedPathMessage } from './browse';
import { markInterruptedRuns } from '../../store/runs';
import { importAbawAsync } from './ingest/abaw';
import { importImages } from './ingest/images';
import { JobRegistry } from './jobs-registry';
import * as training from './app-training';
import * as review from './app-review';

export interface CoreOptions {
  /**
   * Folders that request paths may point into, besides the project itself. Undefined means no
   * restriction (the desktop app, where the user picks paths in native dialogs); the headless
   * host passes a list so a browser can never reach outside them.
   */
  allowedRoots?: string[];
  /** How to start the trainer process (the Electron shell passes a utilityProcess launcher). */
  launchTrainer?: training.TrainerLauncher;
  /** Who review decisions are recorded as (the decisions' actor); default 'ui'. The CLI passes 'cli'. */
  actor?: string;
  /** How hints name the project (the CLI passes the path as typed); default the project's absolute path. */
  projectLabel?: string;
}

// Shared, so every host maps it to 403 the same way (src/shared/errors.ts).
export { PathRefusedError };

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

function canonical(p: string): string {
  // Resolve symlinks of the longest existing prefix, so a link cannot smuggle a path out.
  let cur = resolve(p);
  const rest: string[] = [];
  while (!existsSync(cur)) {
    const parent = resolve(cur, '..');
    if (parent === cur) break;
    rest.unshift(cur.slice(parent.length + 1));
    cur = parent;
  }
  return resolve(realpathSync(cur), ...rest);
}

export class Core implements ConcordCore {
  /** The write connection (short busy timeout: a wait blocks the thread). */
  readonly db: Db;
  readonly readDb: Db;
  private readonly changes: ChangeWatch;
  readonly jobs: JobRegistry;
  private readonly events = new EventEmitter();
  private readonly roots: string[] | null;

  constructor(
    readonly projectDir: string,
    readonly options: CoreOptions = {},
  ) {
    this.db = openDb(projectDir, { create: true, busyTimeoutMs: HOST_BUSY_TIMEOUT_MS });
    // Reads get their own read-only connection: in WAL mode it never waits on a writer, in this
    // process or another, so queue pages and frame images keep flowing while the lock is held.
    this.readDb = openDb(projectDir, { readonly: true, busyTimeoutMs: HOST_BUSY_TIMEOUT_MS });
    this.changes = new ChangeWatch({ db: this.db, onChange: (frameIds) => this.emit('review.changed', { frameIds }) }).start();
    this.roots = options.allowedRoots ? [projectDir, ...options.allowedRoots].map(canonical) : null;
    this.events.setMaxListeners(100);
    this.jobs = new JobRegistry({
      onProgress: (job) => job.progress && this.emit('job.progress', { jobId: job.jobId, kind: job.kind, progress: job.progress }),
      onDone: (job, result) => this.emit('job.done', { jobId: job.jobId, kind: job.kind, result }),
      onError: (job, error) => this.emit('job.error', { jobId: job.jobId, kind: job.kind, error: busyJobMessage(job, error) }),
    });
  }

  emit<E extends EventName>(event: E, data: Events[E]): void {
    this.events.emit(event, data);
  }

  on<E extends EventName>(event: E, cb: (data: Events[E]) => void): () => void {
    this.events.on(event, cb as (d: unknown) => void);
    return () => this.events.off(event, cb as (d: unknown) => void);
  }

  /** A path from a request, made absolute (relative to the project) and checked against the allowed roots. */
  path(p: string): string {
    const abs = resolve(this.projectDir, p);
    if (this.roots && !this.roots.some((r) => inside(r, canonical(abs)))) {
      throw new PathRefusedError(refusedPathMessage(p, this.roots));
    }
    return abs;
  }

  /** The frame's image, checked: inside the project, the allowed roots or its import's frames folder, and an image. */
  framePath(frameId: number): string | null {
    return review.framePathById(this.readDb, frameId, this.roots ?? [this.projectDir]);
  }

  /** The one entry of every host's requests: the payload is parsed here, once, against the contract. */
  async request<K extends RequestName>(name: K, payload: RequestPayload<K>): Promise<Results[K]> {
    const handler = this.handlers[name] as (p: unknown) => Promise<Results[K]> | Results[K];
    if (!handler) throw new Error(`unknown request ${String(name)}`);
    try {
      return await handler(parseRequest(name, payload));
    } catch (e) {
      throw asBusyError(e); // SQLite's "database is locked" becomes a BusyError (503, retry)
    }
  }

  /** An import job; its request paths are checked first, so a refused one is the request's 403, not a failed job. */
  private importJob(
    kind: JobKind,
    paths: (string | undefined)[],
    work: (signal: AbortSignal, progress: (p: Progress) => void) => Promise<unknown> | unknown,
  ): JobInfo {
    for (const p of paths) if (p !== undefined) this.path(p);
    return this.jobs.start(kind, async (c) => {
      const lock = new WriterLock(this.projectDir, 'import');
      lock.acquire();
      try {
        return await work(c.signal, c.progress);
      } finally {
        lock.release();
      }
    });
  }

  private readonly handlers: { [K in RequestName]: (p: any) => Promise<Results[K]> | Results[K] } = {
    'project.info': () => ({
      project: this.projectDir,
      classNames: [...ABAW8],
      ...datasetInfo(this.readDb),
      decidedFrames: decidedFrameCount(this.readDb),
      imageLists: imageListCount(this.readDb),
    }),
    'import.abaw': (p) =>
      this.importJob('import.abaw', [p.annotations, p.frames, p.videos], (signal, progress) =>
        importAbawAsync(this.db, {
          annotations: this.path(p.annotations),
          frames: this.path(p.frames),
          videos: p.videos ? this.path(p.videos) : undefined,
          verify: p.verify,
          signal,
          onProgress: progress,
        }),
      ),
    'import.images': (p) =>
      this.importJob('import.images', [p.list, p.root], (signal, progress) =>
        importImages(this.db, { list: this.path(p.list), root: this.path(p.root), format: p.format, signal, onProgress: progress }),
      ),
    'import.video': (p) =>
      this.importJob('import.video', [p.videos, p.annotations], async (signal, progress) => {
        const { importVideos } = await import('./ingest/video-import');
        return importVideos(this.db, {
          projectDir: this.projectDir,
          videos: this.path(p.videos),
          annotations: this.path(p.annotations),
          detector: p.detector,
          detectEvery: p.detectEvery,
          signal,
          onProgress: progress,
        });
      }),
    'jobs.list': () => this.jobs.list(),
    'jobs.cancel': (p) => ({ ok: this.jobs.cancel(p.jobId) }),
    'train.start': (p) => training.startTraining(this, p),
    'train.pause': (p) => ({ ok: this.jobs.pause(p.jobId) }),
    'train.resume': (p) => ({ ok: this.jobs.resume(p.jobId) }),
    'train.pretrainFinetune': (p) => training.startPretrainFinetune(this, p),
    'runs.list': () => {
      // a write on a read: skipped, not waited for, while another process holds the lock; the next list retries
      tryWithoutWaiting(this.db, () => markInterruptedRuns(this.db, this.projectDir));
      return training.listRunSummaries(this.readDb);
    },
    'runs.metrics': (p) => training.runMetrics(this.readDb, p.runId),
    'runs.steps': (p) => training.runSteps(this.readDb, p),
    'infer.start': (p) => training.startInference(this, p),
    'flags.score': (p) => review.score(this, p),
    'flags.plan': () => review.plan(this.readDb),
    'review.queue': (p) => review.queue(this.readDb, p),
    'review.pairs': (p) => review.pairs(this.readDb, p),
    'review.frame': (p) => review.frame(this.readDb, p),
    'review.segments': (p) => review.segments(this.readDb, p),
    'review.decide': (p) => review.decide(this, p),
    'review.frameId': (p) => review.frameId(this.readDb, p),
    'review.locate': (p) => review.locate(this.readDb, p),
    'review.undo': (p) => review.undo(this, p),
    'review.redo': (p) => review.redo(this, p),
    'review.counts': () => review.counts(this.readDb),
    'review.decisions': (p) => review.decisions(this.readDb, p),
    'export.preview': () => review.exportPreview(this.readDb),
    'export.run': (p) => review.exportRun(this, p),
    // unrestricted (desktop): the project, home and the file system's root
    'fs.list': (p) =>
      listFolder(this.roots ?? [this.projectDir, canonical(homedir()), parse(this.projectDir).root], p.path, {
        base: this.projectDir,
        hidden: p.hidden,
      }),
    'dataset.frames': (p) => datasetFrames(this.readDb, p),
  };

  async close(): Promise<void> {
    await this.jobs.cancelAll();
    await training.stopAll(this);
    this.changes.stop();
    this.events.removeAllListeners();
    this.readDb.close();
    this.db.close();
  }
}

/** A job that failed on the lock says so in words (its error is SQLite's bare "database is locked"). */
function busyJobMessage(job: JobInfo, error: string): string {
  if (!/^database is locked/.test(error)) return error;
  job.error = `${job.kind} stopped: the project database was busy (another process was writing); run it again in a moment`;
  return job.error;
}

export async function createCore(projectDir: string, options: CoreOptions = {}): Promise<Core> {
  return new Core(resolve(projectDir), options);
}
