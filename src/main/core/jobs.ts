// Host side of the trainer process: starts it (a Node child by default, or whatever the Electron
// shell's launcher makes), relays its typed events, cancels/pauses/resumes it, and turns a crash
// (non-zero exit, signal, out of memory) into an error with its cause while the host carries on.
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isTrainerMessage, StartMessage, type StartInput, type TrainerMessage, type TrainerResult } from '../../trainer/protocol';

/** What the host needs of a trainer process, whatever started it. */
export interface TrainerProcess {
  readonly pid?: number;
  send(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  /** stdout and stderr text, kept for crash reports. */
  onOutput?(cb: (text: string) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type TrainerLauncher = (entryPath: string) => TrainerProcess;

/** src/trainer/entry.ts beside this tree (the Electron shell launches its built out/trainer/entry.js instead). */
export const TRAINER_ENTRY = fileURLToPath(new URL('../../trainer/entry.ts', import.meta.url));

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/** The default launcher: `node --import tsx entry.ts` over child_process IPC. */
export function forkTrainer(entryPath: string, opts: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): TrainerProcess {
  const child = fork(entryPath, [], {
    execArgv: ['--import', tsxLoader(), ...(opts.execArgv ?? [])],
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  const outputs: ((text: string) => void)[] = [];
  // A failed spawn emits 'error' (and maybe no 'exit'); an unhandled 'error' would take the host down.
  let ended = false;
  const exits: ((code: number | null, signal: string | null) => void)[] = [];
  const end = (code: number | null, signal: string | null) => {
    if (ended) return;
    ended = true;
    for (const cb of exits) cb(code, signal);
  };
  child.on('exit', (code, signal) => end(code, signal));
  child.on('error', (e) => {
    for (const cb of outputs) cb(`could not run the trainer: ${e.message}\n`);
    if (child.exitCode === null && child.pid === undefined) end(null, null);
  });
  return {
    pid: child.pid,
    send: (m) => {
      if (child.connected) child.send(m as object);
    },
    onMessage: (cb) => child.on('message', cb),
    onExit: (cb) => exits.push(cb),
    onOutput: (cb) => {
      outputs.push(cb);
      child.stdout?.setEncoding('utf8').on('data', cb);
      child.stderr?.setEncoding('utf8').on('data', cb);
    },
    kill: (signal) => {
      child.kill(signal ?? 'SIGTERM');
    },
  };
}

/** Electron's UtilityProcess, structurally (no electron import here). */
export interface UtilityProcessLike {
  readonly pid?: number;
  postMessage(m: unknown): void;
  on(event: 'message', cb: (m: unknown) => void): unknown;
  on(event: 'exit', cb: (code: number) => void): unknown;
  stdout?: NodeJS.ReadableStream | null;
  stderr?: NodeJS.ReadableStream | null;
  kill(): boolean;
}

/** Adapts `utilityProcess.fork(out/trainer/entry.js, [], { stdio: 'pipe' })` for startTrainerJob's launch. */
export function adaptUtilityProcess(child: UtilityProcessLike): TrainerProcess {
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => child.postMessage(m),
    onMessage: (cb) => void child.on('message', cb),
    onExit: (cb) => void child.on('exit', (code: number) => cb(code, null)),
    onOutput: (cb) => {
      child.stdout?.on('data', (d: Buffer | string) => cb(String(d)));
      child.stderr?.on('data', (d: Buffer | string) => cb(String(d)));
    },
    kill: () => void child.kill(),
  };
}

export class TrainerError extends Error {
  constructor(
    message: string,
    /** 'error': the trainer reported it; 'crash': the process died without a report. */
    readonly kind: 'error' | 'crash',
    readonly details: { code?: number | null; signal?: string | null; output?: string; stack?: string; runId?: number | null } = {},
  ) {
    super(message);
    this.name = 'TrainerError';
  }
}

export type TrainerEventMap = {
  [K in TrainerMessage['type']]: Extract<TrainerMessage, { type: K }>;
};

export interface TrainerJob {
  readonly pid: number | undefined;
  /** The run the trainer works on, once it said so. */
  readonly runId: number | null;
  /** Resolves with the trainer's result (status 'done' or 'cancelled'); rejects with a TrainerError. */
  readonly result: Promise<TrainerResult>;
  on<K extends keyof TrainerEventMap>(type: K, cb: (m: TrainerEventMap[K]) => void): () => void;
  /** Every message, in order. */
  onAny(cb: (m: TrainerMessage) => void): () => void;
  cancel(): void;
  pause(): void;
  resume(): void;
  /** Hard stop (SIGKILL); the last complete checkpoint stays usable. */
  kill(): void;
  /** Test hook, honoured only when the trainer runs with CONCORD_TRAINER_TEST=1. */
  crashForTest(how: 'abort' | 'exit' | 'throw' | 'oom'): void;
}

export interface StartTrainerOptions {
  projectDir: string;
  /** The start message without its type and projectDir. */
  message: Omit<StartInput, 'type' | 'projectDir'>;
  launch?: TrainerLauncher;
  /** After cancel(), SIGKILL the process if it has not ended within this time. Default 120 s. */
  cancelGraceMs?: number;
}

const OUTPUT_TAIL = 8192;

export function describeExit(code: number | null, signal: string | null, output: string): string {
  const oom = /heap out of memory|Allocation failed|std::bad_alloc|out of memory/i.test(output);
  const parts: string[] = [];
  if (signal === 'SIGABRT' || code === 134) parts.push(`aborted (${signal ?? 'exit code 134'})`);
  else if (signal) parts.push(`was ended by ${signal}`);
  else parts.push(`exited with code ${code}`);
  if (oom) parts.push('after running out of memory (try a smaller --batch, --input or --model)');
  else if (signal === 'SIGKILL') parts.push('(by the user, or by the system when memory ran out)');
  const last = output.trim().split('\n').slice(-6).join('\n');
  return `trainer process ${parts.join(' ')}${last ? `; last output:\n${last}` : ''}`;
}

/** Starts a trainer process for one job and returns its handle at once. */
export function startTrainerJob(opts: StartTrainerOptions): TrainerJob {
  const start = StartMessage.parse({ ...opts.message, type: 'start', projectDir: opts.projectDir });
  const proc = (opts.launch ?? forkTrainer)(TRAINER_ENTRY);
  const emitter = new EventEmitter();
  emitter.setMaxListeners(50);
  let output = '';
  let final: TrainerMessage | null = null;
  let runId: number | null = null;
  let exited = false;
  let killTimer: NodeJS.Timeout | null = null;
  let started = false;
  // Controls used before the trainer is ready are replayed right after the start message.
  const early: ('cancel' | 'pause' | 'resume')[] = [];
  const control = (type: 'cancel' | 'pause' | 'resume') => {
    if (exited) return;
    if (started) proc.send({ type });
    else early.push(type);
  };

  const result = new Promise<TrainerResult>((resolveResult, rejectResult) => {
    proc.onOutput?.((text) => {
      output = (output + text).slice(-OUTPUT_TAIL);
    });
    proc.onMessage((raw) => {
      if (!isTrainerMessage(raw)) return;
      const m = raw;
      if (m.type === 'ready' && !started) {
        started = true;
        proc.send(start);
        for (const type of early.splice(0)) proc.send({ type });
      }
      if (m.type === 'run') runId = m.runId;
      if (m.type === 'done' || m.type === 'error') {
        final = m;
        // The trainer exits by itself after its last message; make sure of it.
        setTimeout(() => !exited && proc.kill('SIGKILL'), 10_000).unref();
      }
      // Prefixed: a bare 'error' event would throw on an EventEmitter without an 'error' listener.
      emitter.emit(`m:${m.type}`, m);
      emitter.emit('*', m);
    });
    proc.onExit((code, signal) => {
      exited = true;
      if (killTimer) clearTimeout(killTimer);
      const f = final as TrainerMessage | null;
      if (f?.type === 'done') resolveResult(f.result);
      else if (f?.type === 'error') rejectResult(new TrainerError(f.message, 'error', { code, signal, output, stack: f.stack, runId }));
      else rejectResult(new TrainerError(describeExit(code, signal, output), 'crash', { code, signal, output, runId }));
    });
  });
  // Callers may only listen to events; never let a crash become an unhandled rejection of the host.
  result.catch(() => undefined);

  const on = <K extends keyof TrainerEventMap>(type: K, cb: (m: TrainerEventMap[K]) => void) => {
    emitter.on(`m:${type}`, cb as (m: unknown) => void);
    return () => void emitter.off(`m:${type}`, cb as (m: unknown) => void);
  };
  return {
    get pid() {
      return proc.pid;
    },
    get runId() {
      return runId;
    },
    result,
    on,
    onAny: (cb) => {
      emitter.on('*', cb);
      return () => void emitter.off('*', cb);
    },
    cancel: () => {
      if (exited) return;
      control('cancel');
      if (!killTimer) {
        killTimer = setTimeout(() => !exited && proc.kill('SIGKILL'), opts.cancelGraceMs ?? 120_000);
        killTimer.unref();
      }
    },
    pause: () => control('pause'),
    resume: () => control('resume'),
    kill: () => !exited && proc.kill('SIGKILL'),
    crashForTest: (how) => !exited && proc.send({ type: 'crash', how }),
  };
}
