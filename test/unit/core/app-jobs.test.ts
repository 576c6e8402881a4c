// Scoring, export and bulk decisions run as jobs of the core: the request returns a job, progress comes as
// job.progress events (done, total, rate, ETA), the result comes with job.done, and a cancel stops them.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCore, type Core } from '../../../src/main/core/app';
import { BULK_DECIDE } from '../../../src/main/core/app-review';
import { computeFlags, computeFlagsAsync } from '../../../src/main/core/review/flags';
import { exportProject } from '../../../src/main/core/export/export';
import type { Events, JobInfo, Progress } from '../../../src/shared/api';
import { flagStatusCounts } from '../../../src/store/flags';
import { addRun, makeProject, nets, peaked, type TestProject } from '../store/fixtures';

const VIDEOS = 12;
const FRAMES = 30;

let p: TestProject | null = null;
let core: Core | null = null;
afterEach(async () => {
  await core?.close();
  core = null;
  p?.cleanup();
  p = null;
});

/** VIDEOS videos; every fifth frame's label disagrees with three confident networks. */
function project(): TestProject {
  const labels = Array.from({ length: FRAMES }, (_, i) => (i % 5 === 0 ? 1 : 0));
  p = makeProject(Array.from({ length: VIDEOS }, (_, v) => ({ name: `v${v}`, labels })));
  const preds: [number, Float32Array][] = [];
  for (let v = 0; v < VIDEOS; v++)
    for (let i = 1; i <= FRAMES; i++) preds.push([p.frame(`v${v}`, i), nets(peaked(0, 0.9), peaked(0, 0.85), peaked(0, 0.8))]);
  addRun(p.db, 3, preds);
  return p;
}

interface Watched {
  seen: Progress[];
  end: Promise<{ ok: true; result: unknown } | { ok: false; error: string }>;
}

/** Follows one job's events (subscribed before the request, so none is missed). */
function watch(c: Core, start: () => Promise<JobInfo>, onProgress?: (job: JobInfo, p: Progress) => void): Promise<JobInfo & Watched> {
  const progress: Progress[] = [];
  let id: string | null = null;
  let job: JobInfo | null = null;
  const offs: (() => void)[] = [];
  const end = new Promise<{ ok: true; result: unknown } | { ok: false; error: string }>((resolve) => {
    offs.push(
      c.on('job.progress', (e: Events['job.progress']) => {
        if (e.jobId !== id) return;
        progress.push(e.progress);
        onProgress?.(job!, e.progress);
      }),
      c.on('job.done', (e) => e.jobId === id && resolve({ ok: true, result: e.result })),
      c.on('job.error', (e) => e.jobId === id && resolve({ ok: false, error: e.error })),
    );
  });
  void end.then(() => offs.forEach((off) => off()));
  return start().then((j) => {
    id = j.jobId;
    job = j;
    return { ...j, seen: progress, end };
  });
}

describe('flags.score as a job', () => {
  it('returns a job at once, reports progress per video, and ends with what scoring returned before', async () => {
    const proj = project();
    const expected = computeFlags(proj.db).result;
    core = await createCore(proj.dir);
    const j = await watch(core, () => core!.request('flags.score', {}));
    expect(j).toMatchObject({ kind: 'flags.score', status: 'running' });
    const end = await j.end;
    expect(end).toEqual({
      ok: true,
      // the fixture's run has no validation metrics, so nothing says it learned nothing
      result: { runId: expected.runId, flagged: expected.flagged, scored: expected.scored, rule: expected.rule, degenerate: null },
    });
    expect(expected.flagged).toBe(VIDEOS * (FRAMES / 5));
    expect(flagStatusCounts(core.db).open).toBe(expected.flagged);
    const last = j.seen.at(-1)!;
    expect(last).toMatchObject({ phase: 'score', done: VIDEOS, total: VIDEOS });
    expect(last.rate).toBeGreaterThan(0);
    expect(last.etaSeconds).toBe(0);
    expect(core.jobs.get(j.jobId)?.status).toBe('done');
  });

  it('is cancelled between videos and leaves the open flags as they were', async () => {
    core = await createCore(project().dir);
    const j = await watch(
      core,
      () => core!.request('flags.score', {}),
      (job) => void core!.request('jobs.cancel', { jobId: job.jobId }),
    );
    const end = await j.end;
    expect(end).toEqual({ ok: false, error: 'scoring cancelled' });
    expect(j.seen[0]!.done).toBeLessThan(VIDEOS);
    expect(core.jobs.get(j.jobId)?.status).toBe('cancelled');
    expect(flagStatusCounts(core.db).open).toBe(0);
  });

  it('refuses a bad request before starting a job', async () => {
    core = await createCore(project().dir);
    await expect(core.request('flags.score', { runId: 99 })).rejects.toThrow(/run 99 does not exist/);
    expect(core.jobs.list()).toEqual([]);
  });

  it('gives the event loop a turn between videos', async () => {
    const proj = project();
    let turns = 0;
    let on = true;
    const spin = () => {
      turns++;
      if (on) setImmediate(spin);
    };
    setImmediate(spin);
    const r = await computeFlagsAsync(proj.db, { sliceMs: 0 });
    on = false;
    expect(r.result).toEqual(computeFlags(proj.db).result);
    expect(turns).toBeGreaterThanOrEqual(VIDEOS - 1);
  });
});

describe('export.run as a job', () => {
  it('writes the ABAW files with progress per video and ends with what the export returned before', async () => {
    const proj = project();
    core = await createCore(proj.dir);
    const out = join(proj.dir, 'out');
    const j = await watch(core, () => core!.request('export.run', { format: 'abaw', outDir: out }));
    expect(j).toMatchObject({ kind: 'export.run', status: 'running' });
    const end = await j.end;
    expect(end.ok).toBe(true);
    const result = (end as { result: { format: string; paths: string[]; summary: Record<string, unknown> } }).result;
    const before = exportProject(proj.db, { format: 'abaw', outDir: join(proj.dir, 'out-sync') });
    expect(result.format).toBe('abaw');
    expect(result.paths.map((x) => x.slice(out.length))).toEqual(before.files.map((x) => x.slice(join(proj.dir, 'out-sync').length)));
    expect(result.summary).toEqual(before.summary);
    expect(readdirSync(join(out, 'Train_Set'))).toHaveLength(VIDEOS);
    expect(j.seen[0]).toMatchObject({ done: 0, total: VIDEOS });
    expect(j.seen.at(-1)).toMatchObject({ done: VIDEOS, total: VIDEOS, etaSeconds: 0 });
  });

  it('is one snapshot: a decision committed while the files are written is in none of them', async () => {
    const proj = project();
    core = await createCore(proj.dir);
    const out = join(proj.dir, 'out');
    const last = `v${VIDEOS - 1}`;
    const frame = proj.frame(last, 2);
    let decided: Promise<unknown> | null = null;
    const j = await watch(
      core,
      () => core!.request('export.run', { format: 'abaw', outDir: out }),
      (_job, pr) => {
        // after the first video is written, relabel a frame of the last one (not written yet)
        if (pr.done === 1 && !decided) decided = core!.request('review.decide', { frameIds: [frame], action: 'relabel', label: 5 });
      },
    );
    const end = await j.end;
    expect(decided).not.toBeNull();
    await decided;
    expect(end.ok).toBe(true);
    const lines = readFileSync(join(out, 'Train_Set', `${last}.txt`), 'utf8')
      .trim()
      .split('\n');
    expect(Number(lines[2])).toBe(0); // line 2 after the header = frame 2: the label before the decision
    expect((end as { result: { summary: { changed: number } } }).result.summary.changed).toBe(0);
    // the decision itself was committed, and the next export has it
    const again = exportProject(proj.db, { format: 'abaw', outDir: join(proj.dir, 'out-2') });
    expect(again.summary.changed).toBe(1);
  });

  it('the CSV and the report are one-step jobs with the same result', async () => {
    const proj = project();
    core = await createCore(proj.dir);
    const j = await watch(core, () => core!.request('export.run', { format: 'csv', outDir: join(proj.dir, 'csv') }));
    const end = await j.end;
    expect(end).toMatchObject({ ok: true, result: { format: 'csv', summary: { rows: 0, changed: 0 } } });
    expect(j.seen.at(-1)).toMatchObject({ done: 1, total: 1 });
  });

  it('is cancelled between videos and leaves no file behind', async () => {
    const proj = project();
    core = await createCore(proj.dir);
    const out = join(proj.dir, 'out');
    const j = await watch(
      core,
      () => core!.request('export.run', { format: 'abaw', outDir: out }),
      (job) => void core!.request('jobs.cancel', { jobId: job.jobId }),
    );
    expect(await j.end).toEqual({ ok: false, error: 'export cancelled' });
    expect(core.jobs.get(j.jobId)?.status).toBe('cancelled');
    const left = existsSync(out) ? readdirSync(out, { recursive: true }).map(String) : [];
    expect(left.filter((f) => f.endsWith('.txt') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a path outside the allowed roots before starting a job', async () => {
    const proj = project();
    core = await createCore(proj.dir, { allowedRoots: [] });
    await expect(core.request('export.run', { format: 'abaw', outDir: '/' })).rejects.toThrow(/outside the project/);
    expect(core.jobs.list()).toEqual([]);
  });
});

describe('review.decide on many frames', () => {
  function big(): TestProject {
    const labels = Array.from({ length: 600 }, () => 0);
    p = makeProject(Array.from({ length: 5 }, (_, v) => ({ name: `b${v}`, labels })));
    return p;
  }
  const all = (proj: TestProject) => Array.from({ length: 5 * 600 }, (_, k) => proj.frame(`b${Math.floor(k / 600)}`, (k % 600) + 1));

  it('applies a bulk decision in batches with progress, as one group that undo reverts whole', async () => {
    const proj = big();
    core = await createCore(proj.dir);
    const seen: Events['job.progress'][] = [];
    core.on('job.progress', (e) => seen.push(e));
    const ids = all(proj);
    expect(ids.length).toBeGreaterThanOrEqual(BULK_DECIDE);
    // a single decision asked for meanwhile waits its turn, then lands after the group
    const [r, single] = await Promise.all([
      core.request('review.decide', { frameIds: ids, action: 'exclude' }),
      core.request('review.decide', { frameIds: [ids[0]!], action: 'relabel', label: 3 }),
    ]);
    expect(r.decided).toBe(ids.length);
    expect(single.groupId).toBeGreaterThan(r.groupId);
    expect(seen.every((e) => e.kind === 'review.decide')).toBe(true);
    expect(seen.map((e) => e.progress.phase)).toContain('decide');
    expect(seen.at(-1)!.progress).toMatchObject({ phase: 'decide', done: ids.length, total: ids.length });
    expect(await core.request('jobs.cancel', { jobId: seen[0]!.jobId })).toEqual({ ok: false });
    expect(await core.request('review.undo', {})).toEqual({ undone: 1 });
    expect(await core.request('review.undo', {})).toEqual({ undone: ids.length });
    expect((await core.request('project.info', {})).labelledFrames).toBe(ids.length);
  });

  it('refuses the whole group, writing nothing, when one frame is refused', async () => {
    const proj = big();
    core = await createCore(proj.dir);
    // accept needs a flag on every frame; none has one
    await expect(core.request('review.decide', { frameIds: all(proj), action: 'accept' })).rejects.toThrow(/has no flag/);
    expect(await core.request('review.undo', {})).toEqual({ undone: 0 });
  });
});

describe('the review requests the CLI prints from', () => {
  it('resolves VIDEO:FRAME to a frame id and replies with the decision group on `detail`', async () => {
    const proj = project();
    core = await createCore(proj.dir, { actor: 'cli' });
    const frame = proj.frame('v1', 2);
    expect(await core.request('review.frameId', { ref: 'v1:2' })).toEqual({ frameId: frame });
    await expect(core.request('review.frameId', { ref: 'v1:999' })).rejects.toThrow(/there is no frame 999/);
    await expect(core.request('review.frameId', { ref: 'nope:1' })).rejects.toThrow(/no video named "nope"/);
    const d = await core.request('review.decide', { frameIds: [frame], action: 'relabel', label: 4, detail: true });
    expect(d).toMatchObject({ decided: 1, action: 'relabel', changes: [{ frameId: frame, before: 0, after: 4 }] });
    expect(await core.request('review.undo', { detail: true })).toEqual({
      undone: 1,
      groupId: d.groupId,
      action: 'relabel',
      changes: [{ frameId: frame, before: 4, after: 0 }],
    });
    expect(await core.request('review.redo', {})).toEqual({ redone: 1 });
    expect(await core.request('review.redo', { detail: true })).toEqual({ redone: 0 });
    const actors = proj.db.prepare('SELECT DISTINCT actor FROM decisions').all() as { actor: string }[];
    expect(actors.map((a) => a.actor)).toEqual(['cli']);
  });
});
