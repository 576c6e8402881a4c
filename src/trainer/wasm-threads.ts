// Multithreaded tfjs-wasm under Node.
//
// tfjs 4.22 reports WASM_HAS_MULTITHREAD_SUPPORT = false under Node (tfjs issue #3830): its
// threaded build starts each pthread as a Worker from a `blob:` URL and posts the Emscripten glue
// to it as a Blob, neither of which Node's worker_threads can load. With the flag forced on, this
// module gives the glue a Worker class that runs tfjs's worker script from a string
// (worker_threads `eval: true`) and swaps the posted Blob for the path of the identical glue file
// shipped in the package (wasm-out/, same build as the bundled copy; its .wasm is byte-identical).
// tfjs also caps the XNNPACK pool at half the CPUs it sees (os.cpus()), so 2 cores get 1 thread;
// during initialisation os.cpus() is made to report enough CPUs for the count asked for.
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

export interface WasmInitResult {
  /** XNNPACK threads in use (1 = single-threaded). */
  threads: number;
  simd: boolean;
  /** Why the thread count is what it is (empty when it is what was asked for). */
  note: string;
}

/** Threads to ask for by default: CONCORD_WASM_THREADS, else every available core. */
export function defaultWasmThreads(): number {
  const env = Number(process.env.CONCORD_WASM_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, os.availableParallelism());
}

let shimInstalled = false;
let initialised: WasmInitResult | null = null;
const INIT_TIMEOUT_MS = 60_000;

function packageFile(...parts: string[]): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), ...parts);
}

/** Installs the Worker the threaded glue looks up as a global. */
function installWorkerShim(): void {
  if (shimInstalled) return;
  const gluePath = packageFile('wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  // The worker source is a JS string literal whose "\n" must stay escaped, as tfjs does for Blobs.
  const workerSource = (
    require(packageFile('wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
      wasmWorkerContents: string;
    }
  ).wasmWorkerContents.replace(/\n/g, '\\n');

  class TfjsWasmWorker extends NodeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      if (typeof url === 'string' && url.startsWith('blob:')) super(workerSource, { ...options, eval: true });
      else super(url, options);
      super.unref();
    }

    // The glue refs a worker while its pthread runs, and XNNPACK's pool threads run for the life
    // of the process, so the process would never exit. Every wasm call blocks the main thread until
    // the pool is done, so nothing needs the workers to keep the event loop alive.
    override ref(): void {}

    override postMessage(message: unknown, transfer?: Parameters<NodeWorker['postMessage']>[1]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') message = { ...m, urlOrBlob: gluePath };
      super.postMessage(message, transfer);
    }
  }
  // The glue assigns globalThis.Worker = worker_threads.Worker while it starts; keep ours.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => TfjsWasmWorker, set: () => {} });
  shimInstalled = true;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function initOnce(threads: number): Promise<{ ok: boolean; error?: string }> {
  const realCpus = os.cpus;
  if (threads > 1) {
    installWorkerShim();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    tfwasm.setThreadsCount(threads);
    const fake = (): os.CpuInfo[] => {
      const cpus = realCpus();
      const out = [...cpus];
      while (out.length < 2 * threads) out.push(cpus[0]);
      return out;
    };
    (os as { cpus: typeof os.cpus }).cpus = fake;
  } else {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tfwasm.setThreadsCount(1);
  }
  try {
    const ok = await withTimeout(tf.setBackend('wasm'), INIT_TIMEOUT_MS, 'wasm backend initialisation');
    return { ok };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    (os as { cpus: typeof os.cpus }).cpus = realCpus;
  }
}

/**
 * Initialises (once per process) and activates the wasm backend with `threads` XNNPACK threads,
 * falling back to one thread when the threaded build cannot start. Later calls only activate it:
 * the thread count is fixed at the first initialisation.
 */
export async function initWasmBackend(threads = defaultWasmThreads()): Promise<WasmInitResult> {
  if (initialised) {
    if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend was initialised before but cannot be activated again');
    return initialised;
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const wanted = Math.max(1, Math.floor(threads));
  let note = '';
  const canThread = wanted > 1 && typeof SharedArrayBuffer === 'function' && simd;
  if (wanted > 1 && !canThread) note = 'threads need SharedArrayBuffer and wasm SIMD; running single-threaded';
  let result = await initOnce(canThread ? wanted : 1);
  if (!result.ok && canThread) {
    note = `threaded wasm failed (${result.error ?? 'initialisation returned false'}); running single-threaded`;
    // A failed or abandoned start leaves the factory registered; a new setBackend supersedes it.
    result = await initOnce(1);
  }
  if (!result.ok) throw new Error(`wasm backend failed to initialise: ${result.error ?? 'tf.setBackend returned false'}`);
  const actual = tfwasm.getThreadsCount();
  if (!note && actual !== wanted) note = `asked for ${wanted} threads, XNNPACK uses ${actual}`;
  initialised = { threads: actual, simd, note };
  return initialised;
}
