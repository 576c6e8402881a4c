import { afterEach, describe, expect, it } from 'vitest';
import { decide, frameRef, parseActionArg, redo, undo } from '../../../../src/main/core/review/decisions';
import { scoreRun } from '../../../../src/main/core/review/flags';
import { decisionsOfFrame, reviewCounts } from '../../../../src/store/decisions';
import { getFlag } from '../../../../src/store/flags';
import { queuePage } from '../../../../src/store/queue';
import { openDb } from '../../../../src/store/db';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addRun, makeProject, nets, peaked, type TestProject } from '../../store/fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

/** Video v, 6 frames labelled 0; frames 2..5 flagged 0 → 4 by all three networks. */
function flagged(): { f: (i: number) => number; label: (i: number) => number } {
  p = makeProject([{ name: 'v', labels: [0, 0, 0, 0, 0, 0] }]);
  const f = (i: number) => p.frame('v', i);
  addRun(
    p.db,
    3,
    [1, 2, 3, 4, 5, 6].map(
      (i) =>
        [f(i), i >= 2 && i <= 5 ? nets(peaked(4), peaked(4), peaked(4, 0.7)) : nets(peaked(0), peaked(0), peaked(0))] as [
          number,
          Float32Array,
        ],
    ),
  );
  expect(scoreRun(p.db).flagged).toBe(4);
  const label = (i: number) => (p.db.prepare('SELECT current_label AS c FROM labels WHERE frame_id = ?').get(f(i)) as { c: number }).c;
  return { f, label };
}

describe('decide', () => {
  it('applies each action and writes an audit row with before/after, rule, score, run and flag', () => {
    const { f, label } = flagged();
    const flagOf = (i: number) => queuePage(p.db, { filter: { status: 'all' } }).items.find((x) => x.idx === i)!;
    const flag2 = flagOf(2);
    decide(p.db, { frameIds: [f(2)], action: 'accept', actor: 'ann' });
    decide(p.db, { frameIds: [f(3)], action: 'relabel', label: 6 });
    decide(p.db, { frameIds: [f(4)], action: 'keep' });
    decide(p.db, { frameIds: [f(5)], action: 'exclude' });
    decide(p.db, { frameIds: [f(6)], action: 'skip' });
    expect([2, 3, 4, 5, 6].map(label)).toEqual([4, 6, 0, -1, 0]);
    const d = decisionsOfFrame(p.db, f(2));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({
      action: 'accept',
      label_before: 0,
      label_after: 4,
      rule: 'score-threshold',
      run_id: flag2.runId,
      flag_id: flag2.flagId,
      actor: 'ann',
    });
    expect(d[0]!.score).toBeCloseTo(flag2.score, 12);
    expect(d[0]!.group_id).toBeGreaterThan(0);
    expect(decisionsOfFrame(p.db, f(6))[0]).toMatchObject({ action: 'skip', label_before: 0, label_after: 0, flag_id: null });
    // every flagged frame was decided; skip on an unflagged frame changes nothing
    expect(queuePage(p.db).items).toHaveLength(0);
    expect(queuePage(p.db, { filter: { status: 'decided' } }).items).toHaveLength(4);
  });

  it('keep returns a relabelled frame to its original label; skip leaves the flag open', () => {
    const { f, label } = flagged();
    decide(p.db, { frameIds: [f(2)], action: 'relabel', label: 3 });
    decide(p.db, { frameIds: [f(2)], action: 'keep' });
    expect(label(2)).toBe(0);
    decide(p.db, { frameIds: [f(3)], action: 'skip' });
    expect(queuePage(p.db).items.map((i) => i.idx)).toContain(3);
  });

  it('decides on a selection in one group, and rejects bad input without changing anything', () => {
    const { f, label } = flagged();
    const r = decide(p.db, { frameIds: [f(2), f(3), f(3), f(4)], action: 'accept' });
    expect(r.changes.map((c) => c.after)).toEqual([4, 4, 4]);
    expect(new Set([2, 3, 4].map((i) => decisionsOfFrame(p.db, f(i))[0]!.group_id))).toEqual(new Set([r.groupId]));

    const before = reviewCounts(p.db);
    expect(() => decide(p.db, { frameIds: [f(5), 999999], action: 'exclude' })).toThrow(/frame 999999 does not exist/);
    expect(label(5)).toBe(0); // the whole call rolled back
    expect(reviewCounts(p.db).decisions).toBe(before.decisions);
    expect(() => decide(p.db, { frameIds: [f(1)], action: 'accept' })).toThrow(/v:1\) has no flag/);
    expect(() => decide(p.db, { frameIds: [f(1)], action: 'relabel' })).toThrow(/relabel needs a label/);
    expect(() => decide(p.db, { frameIds: [f(1)], action: 'relabel', label: 7 })).toThrow(/label 7 is out of range for v \(abaw7: 0..6\)/);
    expect(() => decide(p.db, { frameIds: [f(1)], action: 'keep', label: 2 })).toThrow(/only given with relabel/);
    expect(() => decide(p.db, { frameIds: [], action: 'keep' })).toThrow(/no frames/);
    expect(() => decide(p.db, { frameIds: [f(1)], action: 'bogus' as never })).toThrow(/unknown action "bogus"/);
  });

  it('undo reverts the last group with appended rows; redo re-applies; a new decision clears redo', () => {
    const { f, label } = flagged();
    decide(p.db, { frameIds: [f(2), f(3)], action: 'accept' });
    decide(p.db, { frameIds: [f(4)], action: 'relabel', label: 1 });
    decide(p.db, { frameIds: [f(4)], action: 'exclude' });
    expect([2, 3, 4].map(label)).toEqual([4, 4, -1]);

    expect(undo(p.db)!.action).toBe('exclude');
    expect(label(4)).toBe(1);
    expect(undo(p.db)!.action).toBe('relabel');
    expect(label(4)).toBe(0);
    // the flag of frame 4 is open again once no applied decision refers to it
    const flag4 = decisionsOfFrame(p.db, f(4))[0]!.flag_id!;
    expect(getFlag(p.db, flag4)!.status).toBe('open');

    expect(redo(p.db)!.action).toBe('relabel');
    expect(label(4)).toBe(1);
    expect(getFlag(p.db, flag4)!.status).toBe('decided');
    expect(undo(p.db)!.action).toBe('relabel');
    expect(undo(p.db)!.action).toBe('accept');
    expect([2, 3, 4].map(label)).toEqual([0, 0, 0]);
    expect(undo(p.db)).toBeNull();
    expect(reviewCounts(p.db)).toMatchObject({ canUndo: false, canRedo: true, open: 4 });

    // redo order: accept, then relabel (exclude stays undone behind a new decision)
    expect(redo(p.db)!.action).toBe('accept');
    decide(p.db, { frameIds: [f(5)], action: 'keep' });
    expect(redo(p.db)).toBeNull();
    expect(reviewCounts(p.db).canRedo).toBe(false);
    expect([2, 3, 4, 5].map(label)).toEqual([4, 4, 0, 0]);

    // the audit trail kept everything: frame 4 has relabel, exclude, undo, undo, redo, undo
    expect(decisionsOfFrame(p.db, f(4)).map((d) => [d.action, d.label_before, d.label_after])).toEqual([
      ['relabel', 0, 1],
      ['exclude', 1, -1],
      ['undo', -1, 1],
      ['undo', 1, 0],
      ['redo', 0, 1],
      ['undo', 1, 0],
    ]);
    const undoRow = decisionsOfFrame(p.db, f(4))[2]!;
    expect(undoRow.reverts_id).toBe(decisionsOfFrame(p.db, f(4))[1]!.id);
  });

  it('two connections deciding on the same frame: both recorded in order, the last wins', () => {
    const { f, label } = flagged();
    const other = openDb(p.dir);
    try {
      decide(p.db, { frameIds: [f(2)], action: 'accept', actor: 'host-a' });
      decide(other, { frameIds: [f(2)], action: 'relabel', label: 5, actor: 'host-b' });
      decide(p.db, { frameIds: [f(3)], action: 'relabel', label: 2, actor: 'host-a' });
      decide(other, { frameIds: [f(3)], action: 'keep', actor: 'host-b' });
      expect(label(2)).toBe(5);
      expect(label(3)).toBe(0);
      const rows = decisionsOfFrame(other, f(2));
      expect(rows.map((r) => [r.actor, r.label_before, r.label_after])).toEqual([
        ['host-a', 0, 4],
        ['host-b', 4, 5],
      ]);
      // undo from either host takes the newest group, whoever made it
      expect(undo(p.db)!.changes).toEqual([{ frameId: f(3), before: 0, after: 2 }]);
    } finally {
      other.close();
    }
  });
});

function runWorker(dir: string, frameId: number, actor: string, count: number): Promise<number> {
  const script = fileURLToPath(new URL('./decide-worker.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', script, dir, String(frameId), actor, String(count)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`worker ${actor} exited ${code}: ${err}`))));
  });
}

describe('concurrent hosts', () => {
  it('two processes deciding on one frame at once: every decision recorded, each starting from the previous one', async () => {
    const { f, label } = flagged();
    await Promise.all([runWorker(p.dir, f(2), 'host-a', 40), runWorker(p.dir, f(2), 'host-b', 40)]);
    const rows = decisionsOfFrame(p.db, f(2));
    expect(rows).toHaveLength(80);
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(['host-a', 'host-b']));
    // serialised: each decision's label_before is the previous decision's label_after
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.label_before).toBe(rows[i - 1]!.label_after);
    expect(label(2)).toBe(rows[rows.length - 1]!.label_after);
  });
});

describe('frame references and CLI actions', () => {
  it('resolves VIDEO:FRAME and explains bad references', () => {
    p = makeProject([{ name: '12-24-1920x1080_left', labels: [0, 1, 2] }]);
    expect(frameRef(p.db, '12-24-1920x1080_left:2')).toBe(p.frame('12-24-1920x1080_left', 2));
    expect(() => frameRef(p.db, '12-24-1920x1080_left')).toThrow(/expected VIDEO:FRAME/);
    expect(() => frameRef(p.db, 'v:0')).toThrow(/expected VIDEO:FRAME/);
    expect(() => frameRef(p.db, 'nope:1')).toThrow(/no video named "nope"/);
    expect(() => frameRef(p.db, '12-24-1920x1080_left:9')).toThrow(/has 3 frames, there is no frame 9/);
  });

  it('parses --action values', () => {
    expect(parseActionArg('accept')).toEqual({ action: 'accept' });
    expect(parseActionArg('relabel:3')).toEqual({ action: 'relabel', label: 3 });
    expect(() => parseActionArg('relabel')).toThrow(/relabel:K/);
    expect(() => parseActionArg('delete')).toThrow(/unknown action "delete"/);
  });
});
