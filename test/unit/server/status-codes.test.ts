// Status codes of the real core behind the headless host: a missing frame or run is 404, and an
// import or export of a refused path is 403 in the request itself, with no job started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createCore, type Core } from '../../../src/main/core/app';
import { ScoringError } from '../../../src/main/core/review/flags';
import { startServer, type RunningServer } from '../../../src/main/server/http';
import { listFrames } from '../../../src/store/dataset';
import { makeAbaw, tempDir, writeFile } from '../../helpers/tmp';

let dir: string;
let core: Core;
let server: RunningServer;

function post(name: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((ok, fail) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path: `/api/${name}`,
        method: 'POST',
        headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      },
    );
    req.on('error', fail);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  dir = tempDir();
  const data = join(dir, 'data');
  const { annotations, frames } = makeAbaw(data, [{ split: 'Train_Set', name: 'v', labels: [0, 1] }]);
  core = await createCore(join(dir, 'p'), { allowedRoots: [data] });
  const done = new Promise((ok) => core.on('job.done', ok));
  await core.request('import.abaw', { annotations, frames });
  await done;
  writeFile(join(dir, 'web', 'index.html'), '<!doctype html>');
  server = await startServer({ core, staticDir: join(dir, 'web') });
});

afterAll(async () => {
  await server?.close();
  await core?.close();
});

describe('status codes', () => {
  it('answers 404 for a frame or run that does not exist', async () => {
    const frameId = listFrames(core.db)[0]!.frameId;
    expect((await post('review.frame', { frameId })).status).toBe(200);
    expect(await post('review.frame', { frameId: 12345 })).toEqual({ status: 404, body: { error: 'frame 12345 does not exist' } });
    expect(await post('runs.metrics', { runId: 99 })).toEqual({ status: 404, body: { error: 'run 99 does not exist' } });
    expect(await post('flags.score', { runId: 99 })).toEqual({ status: 404, body: { error: 'run 99 does not exist' } });
    expect(await post('infer.start', { runId: 99 })).toEqual({ status: 404, body: { error: 'run 99 does not exist' } });
    expect(await post('review.decide', { frameIds: [frameId, 999999], action: 'exclude' })).toEqual({
      status: 404,
      body: { error: 'frame 999999 does not exist' },
    });
    expect((await post('review.counts', {})).body.result.decided).toBe(0); // nothing of that group was written
    expect(core.jobs.list().filter((j) => j.kind !== 'import.abaw')).toEqual([]);
    // the CLI prints a ScoringError as one line: the missing run keeps that class
    await expect(core.request('flags.score', { runId: 99 })).rejects.toBeInstanceOf(ScoringError);
  });

  it('refuses an import or export of a path outside the allowed folders with 403, starting no job', async () => {
    const before = core.jobs.list().length;
    const outside = join(dir, '..');
    const data = join(dir, 'data');
    for (const [name, payload] of [
      ['import.images', { list: '/etc/passwd', root: data, format: 'csv' }],
      ['import.images', { list: join(data, 'annotations', 'Train_Set', 'v.txt'), root: '/etc', format: 'csv' }],
      ['import.abaw', { annotations: join(data, 'annotations'), frames: outside }],
      ['import.abaw', { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned'), videos: '/usr' }],
      ['import.video', { videos: outside, annotations: join(data, 'annotations') }],
      ['export.run', { format: 'csv', outDir: '/tmp/concord-refused-export' }],
    ] as const) {
      const r = await post(name, payload);
      expect(r.status, `${name} ${JSON.stringify(payload)}`).toBe(403);
      expect(r.body.error).toMatch(/is outside the project and the allowed data folders/);
    }
    expect(core.jobs.list()).toHaveLength(before);
  });
});
