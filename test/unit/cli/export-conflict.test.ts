// `concord export` into a folder that already holds an export: one line naming the folder and the
// two options, --overwrite and --new-folder.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../src/main/cli';
import { makeProject, type TestProject } from '../store/fixtures';
import { capture } from '../../helpers/io';

let p: TestProject | null = null;
afterEach(() => {
  p?.cleanup();
  p = null;
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('concord export into a used folder', () => {
  it('refuses with one line, then writes beside it with --new-folder or over it with --overwrite', async () => {
    p = makeProject([{ name: 'v', labels: [0, 1] }]);
    p.db.close(); // the CLI opens the project itself
    const out = join(p.dir, 'cleaned');
    expect((await run('export', p.dir, '--format', 'csv', '--out', out)).code).toBe(0);
    const csv = readdirSync(out).find((f) => f.endsWith('.csv'))!;
    writeFileSync(join(out, csv), 'marker');

    const again = await run('export', p.dir, '--format', 'csv', '--out', out);
    expect(again.code).toBe(1);
    expect(again.err.split('\n')).toHaveLength(1);
    expect(again.err).toMatch(
      new RegExp(
        `^concord: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} already holds an export written .+ UTC \\(csv\\); pass --overwrite .* or --new-folder`,
      ),
    );
    expect(readFileSync(join(out, csv), 'utf8')).toBe('marker');

    const beside = await run('export', p.dir, '--format', 'csv', '--out', out, '--new-folder', '--json');
    expect(beside.code).toBe(0);
    const used = JSON.parse(beside.out).outDir as string;
    expect(used).toMatch(/cleaned-\d{8}-\d{6}$/);
    expect(existsSync(join(used, csv))).toBe(true);
    expect(readFileSync(join(out, csv), 'utf8')).toBe('marker');

    expect((await run('export', p.dir, '--format', 'csv', '--out', out, '--overwrite')).code).toBe(0);
    expect(readFileSync(join(out, csv), 'utf8')).not.toBe('marker');
    expect((await run('export', p.dir, '--out', out, '--overwrite', '--new-folder')).code).toBe(2);
  });
});
