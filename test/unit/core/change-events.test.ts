// Issue 11 item 8: a decision committed by another process reaches the core's listeners as one
// review.changed event; the core's own decisions are announced once, never again by the watch.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCore, type Core } from '../../../src/main/core/app';
import { decide } from '../../../src/main/core/review/decisions';
import { scoreRun } from '../../../src/main/core/review/flags';
import { addRun, makeProject, nets, peaked, type TestProject } from '../store/fixtures';

let p: TestProject | null = null;
let core: Core | null = null;
afterEach(async () => {
  await core?.close();
  p?.cleanup();
  p = core = null;
});

/** Decides once on one frame from its own process (the CLI's path: its own connection). */
function decideElsewhere(dir: string, frameId: number): Promise<void> {
  const script = fileURLToPath(new URL('./review/decide-worker.ts', import.meta.url));
  return new Promise((ok, fail) => {
    const c = spawn(process.execPath, ['--import', 'tsx', script, dir, String(frameId), 'cli', '1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('error', fail);
    c.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`worker exited ${code}: ${err}`))));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(25);
}

async function watched(): Promise<{ f: (i: number) => number; events: number[][] }> {
  p = makeProject([{ name: 'v', labels: [0, 0, 0, 0, 0, 0] }]);
  const t = p;
  const f = (i: number) => t.frame('v', i);
  addRun(
    t.db,
    3,
    [1, 2, 3, 4, 5, 6].map((i) => [f(i), nets(peaked(4), peaked(4), peaked(4))] as [number, Float32Array]),
  );
  scoreRun(t.db);
  core = await createCore(t.dir);
  const events: number[][] = [];
  core.on('review.changed', (e) => events.push(e.frameIds));
  return { f, events };
}

describe('review.changed across processes', () => {
  it('a decision from another process arrives once, within ~2 s', async () => {
    const { f, events } = await watched();
    await decideElsewhere(p!.dir, f(3)); // committed once the worker has exited
    await until(() => events.length > 0, 2000);
    expect(events).toEqual([[f(3)]]);
    await sleep(1500); // several more looks: no repeats
    expect(events).toEqual([[f(3)]]);
  }, 20_000);

  it("the core's own decisions are announced once, even when another connection commits in the same interval", async () => {
    const { f, events } = await watched();
    await core!.request('review.decide', { frameIds: [f(2)], action: 'accept' });
    expect(events).toEqual([[f(2)]]);
    await sleep(1200);
    expect(events).toEqual([[f(2)]]);

    // own then foreign, back to back: the watch reports the foreign frame only
    await core!.request('review.decide', { frameIds: [f(4)], action: 'keep' });
    decide(p!.db, { frameIds: [f(5)], action: 'exclude', actor: 'elsewhere' });
    await until(() => events.length >= 3, 2000);
    await sleep(1200);
    expect(events).toEqual([[f(2)], [f(4)], [f(5)]]);
  }, 20_000);
});
