// export.run into a folder that already holds files: ask (409), a new sibling folder, or overwrite.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createCore, type Core } from '../../../src/main/core/app';
import { describeWhen, exportTarget, newFolderName } from '../../../src/main/core/export/conflict';
import { statusForError } from '../../../src/main/server/http';
import { ConflictError, errorStatus } from '../../../src/shared/errors';
import type { ExportResult, JobInfo } from '../../../src/shared/api';
import { makeProject, type TestProject } from '../store/fixtures';
import { exportConflict } from '../../../src/renderer/src/stores/exports';

let p: TestProject | null = null;
let core: Core | null = null;
afterEach(async () => {
  await core?.close();
  core = null;
  p?.cleanup();
  p = null;
});

function run(c: Core, start: Promise<JobInfo>): Promise<ExportResult> {
  return new Promise((ok, fail) => {
    let id: string | null = null;
    const offs = [
      c.on('job.done', (e) => e.jobId === id && (offs.forEach((o) => o()), ok(e.result as ExportResult))),
      c.on('job.error', (e) => e.jobId === id && (offs.forEach((o) => o()), fail(new Error(e.error)))),
    ];
    start.then((j) => (id = j.jobId), fail);
  });
}

describe('ConflictError', () => {
  it('carries 409, mapped like the other statuses', () => {
    const e = new ConflictError('x already holds an export');
    expect(e.status).toBe(409);
    expect(e.name).toBe('ConflictError');
    expect(errorStatus(e)).toBe(409);
    expect(statusForError(e)).toBe(409);
  });
});

describe('the new folder', () => {
  it('is <dir>-YYYYMMDD-HHMMSS (UTC), numbered while taken', () => {
    const at = new Date(Date.UTC(2026, 0, 5, 7, 8, 9));
    expect(newFolderName('/data/out', at, () => false)).toBe('/data/out-20260105-070809');
    const taken = new Set(['/data/out-20260105-070809', '/data/out-20260105-070809-2']);
    expect(newFolderName('/data/out', at, (x) => taken.has(x))).toBe('/data/out-20260105-070809-3');
    expect(describeWhen('2026-12-02T03:04:05.678Z')).toBe('2026-12-02 03:04:05 UTC');
  });
});

describe('export.run ifExists', () => {
  it('asks (409, naming the folder and the previous export), writes to a new folder, or overwrites', async () => {
    p = makeProject([{ name: 'v', labels: [0, 1, 2] }]);
    core = await createCore(p.dir);
    const out = join(p.dir, 'out');
    const first = await run(core, core.request('export.run', { format: 'csv', outDir: out }));
    expect(first.outDir).toBe(out);
    const csv = readdirSync(out).filter((f) => f.endsWith('.csv'));
    expect(csv.length).toBeGreaterThan(0);
    const file = join(out, csv[0]!);
    const before = readFileSync(file, 'utf8');
    const recorded = (core.readDb.prepare('SELECT created_at AS t FROM exports ORDER BY id DESC LIMIT 1').get() as { t: string }).t;

    // the default asks: no job starts
    const jobs = core.jobs.list().length;
    const err = await core.request('export.run', { format: 'csv', outDir: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain(`${out} already holds an export written ${describeWhen(recorded)}`);
    expect((err as Error).message).toMatch(/'overwrite'.*'new'/);
    expect(core.jobs.list()).toHaveLength(jobs);
    // what the Export view's dialog reads out of it
    const c = exportConflict(err);
    expect(c?.message).toBe(`${out} already holds an export written ${describeWhen(recorded)} (csv)`);
    expect(c?.newFolder).toMatch(/^out-\d{8}-\d{6}$/);
    expect(exportConflict(new Error('something else'))).toBeNull();
    await expect(core.request('export.run', { format: 'csv', outDir: out, ifExists: 'ask' })).rejects.toBeInstanceOf(ConflictError);

    // 'new': a fresh sibling, the first folder untouched
    writeFileSync(file, 'marker');
    const second = await run(core, core.request('export.run', { format: 'csv', outDir: out, ifExists: 'new' }));
    expect(dirname(second.outDir!)).toBe(p.dir);
    expect(basename(second.outDir!)).toMatch(/^out-\d{8}-\d{6}(-\d+)?$/);
    expect(readFileSync(join(second.outDir!, csv[0]!), 'utf8')).toBe(before);
    expect(readFileSync(file, 'utf8')).toBe('marker');

    // 'overwrite': the same folder, its files replaced
    const third = await run(core, core.request('export.run', { format: 'csv', outDir: out, ifExists: 'overwrite' }));
    expect(third.outDir).toBe(out);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('does not ask for an empty or missing folder, and says so when the files there are no export of the project', () => {
    p = makeProject([{ name: 'v', labels: [0] }]);
    expect(exportTarget(p.db, join(p.dir, 'missing'))).toBe(join(p.dir, 'missing'));
    writeFileSync(join(p.dir, 'stray.txt'), 'x');
    expect(() => exportTarget(p!.db, p!.dir)).toThrow(/holds \d+ file\(s\) that no export of this project wrote/);
    expect(existsSync(join(p.dir, 'missing'))).toBe(false);
  });
});

describe('export.preview', () => {
  it('gives each changed frame the action that changed it', async () => {
    p = makeProject([{ name: 'v', labels: [0, 1, 2, 3] }]);
    core = await createCore(p.dir);
    await core.request('review.decide', { frameIds: [p.frame('v', 1)], action: 'relabel', label: 4 });
    await core.request('review.decide', { frameIds: [p.frame('v', 2)], action: 'exclude' });
    await core.request('review.decide', { frameIds: [p.frame('v', 3)], action: 'keep' }); // keeps: no change
    const r = await core.request('export.preview', {});
    expect(r.sample.map((s) => [s.idx, s.action])).toEqual([
      [1, 'relabel'],
      [2, 'exclude'],
    ]);
  });
});
