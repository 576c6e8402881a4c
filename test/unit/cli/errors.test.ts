// The real `concord` process (bin/concord.mjs) on mistakes: usage errors and values the contract
// refuses print one line and exit 2, a closed stdout pipe ends quietly, and control characters
// from an annotation file reach the terminal escaped.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../../src/main/cli';
import { HEADER7, makeAbaw, tempDir } from '../../helpers/tmp';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'concord.mjs');

function concord(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('concord on usage mistakes (a real process)', () => {
  const root = tempDir();
  const project = join(root, 'P');
  const src = makeAbaw(join(root, 'data'), [{ split: 'Train_Set', name: 'v1', labels: [0, 1, 2, 3] }]);

  it('sets up a project', async () => {
    const quiet = { out: () => {}, err: () => {} };
    expect(await main(['init', project], quiet)).toBe(0);
    expect(await main(['import', 'abaw', project, '--annotations', src.annotations, '--frames', src.frames], quiet)).toBe(0);
  });

  it.each([
    [['decide', 'P', '--bogus'], /^concord: Unknown option '--bogus' \(see `concord help`\)$/],
    [['flags'], /^concord: a project folder is required \(see `concord help`\)$/],
    [['flags', 'P', '--rule', 'bogus'], /^concord: --rule must be one of all-agree, confident-learning, score-threshold, not "bogus"/],
    // the CLI's own checks let it through; the core's schema refuses it
    [['decide', 'P', '--frame', '', '--action', 'keep'], /^concord: bad review\.frameId request: ref: /],
    [['info', 'P', 'extra', '--top'], /^concord: Unknown option '--top'/],
    // a typo names what was most likely meant
    [['trian', 'P'], /^concord: unknown command "trian"; did you mean "train"\? \(see `concord help`\)$/],
    [['train', 'P', '--epoch', '3'], /^concord: unknown option --epoch; did you mean --epochs\? \(see `concord help`\)$/],
  ])('%j prints one line and exits 2', (args, message) => {
    const r = concord(...args.map((a) => (a === 'P' ? project : a)));
    expect(r.code, r.err).toBe(2);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err.trimEnd()).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a mistyped project folder is said not to exist (with the project it most likely meant), not to need init', () => {
    const typo = concord('info', join(root, 'p'));
    expect(typo.code).toBe(1);
    expect(typo.err.trimEnd()).toBe(`concord: ${join(root, 'p')} does not exist; did you mean ${project}?`);
    const far = concord('info', join(root, 'nothing-like-it'));
    expect(far.err.trimEnd()).toBe(`concord: ${join(root, 'nothing-like-it')} does not exist`);
    // an existing folder that is no project still points at init
    expect(concord('info', join(root, 'data')).err).toMatch(/is not a Concord project \(no concord\.sqlite\); run `concord init /);
  });

  it('ends quietly with exit 0 when the reader of stdout goes away (`| head -1`)', async () => {
    const child = spawn(process.execPath, [BIN, 'info', project], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    // close the read side before the CLI (a second to start) prints: its first write gets EPIPE
    child.stdout.destroy();
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(err).toBe('');
    expect(code).toBe(0);
    // and through a shell pipe, as a user types it (`true` exits without reading)
    const sh = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" info "${project}" | true`], { encoding: 'utf8' });
    expect(sh.stderr).toBe('');
  });

  it('escapes control characters from an annotation file in what it prints', () => {
    const bad = makeAbaw(join(root, 'evil'), [
      { split: 'Train_Set', name: 'v2', labels: [], raw: `${HEADER7}\n0\n\x1b]0;pwned\x07\x1b[2J\n1\n` },
    ]);
    const r = concord('import', 'abaw', project, '--annotations', bad.annotations, '--frames', bad.frames);
    expect(r.err).toMatch(/line 3|:3:/);
    expect(r.err).toContain('\\u001b]0;pwned\\u0007\\u001b[2J');
    for (const byte of ['\x1b', '\x07']) {
      expect(r.err.includes(byte)).toBe(false);
      expect(r.out.includes(byte)).toBe(false);
    }
  });
});
