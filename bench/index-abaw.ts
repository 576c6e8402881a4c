// Index an Aff-Wild2-sized ABAW annotation set (548 videos, ~2.6 million frame lines, crops listed
// but not decoded) into a fresh project. Prints one JSON line: seconds, frames/s, peak RSS.
// Usage: npx tsx bench/index-abaw.ts [--videos 548] [--lines 2600000] [--data DIR]
// The synthetic set (empty crop files) is generated once under DIR and reused.
import { existsSync, mkdirSync, rmSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb } from '../src/store/db';
import { importAbaw } from '../src/main/core/ingest/abaw';
import { ABAW7_HEADER } from '../src/shared/labels';

const { values } = parseArgs({ options: { videos: { type: 'string' }, lines: { type: 'string' }, data: { type: 'string' } } });
const videos = Number(values.videos ?? 548);
const lines = Number(values.lines ?? 2_600_000);
const data = values.data ?? join(tmpdir(), `concord-bench-abaw-${videos}-${lines}`);

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

if (!existsSync(join(data, 'READY'))) {
  rmSync(data, { recursive: true, force: true });
  const rnd = lcg(7);
  const per = Math.floor(lines / videos);
  for (let v = 0; v < videos; v++) {
    const n = v === videos - 1 ? lines - per * (videos - 1) : per;
    const split = v % 5 === 0 ? 'Validation_Set' : 'Train_Set';
    const name = `${v}-30-1280x720${v % 50 === 1 ? '_left' : ''}`;
    const body: string[] = [ABAW7_HEADER];
    let label = 0;
    for (let i = 0; i < n; i++) {
      if (rnd() < 0.01) label = Math.floor(rnd() * 8) - 1;
      body.push(String(label));
    }
    mkdirSync(join(data, 'annotations', split), { recursive: true });
    writeFileSync(join(data, 'annotations', split, `${name}.txt`), body.join('\n') + '\n');
    const dir = join(data, 'cropped_aligned', name);
    mkdirSync(dir, { recursive: true });
    for (let i = 1; i <= n; i++) if (i % 97 !== 0) closeSync(openSync(join(dir, `${String(i).padStart(5, '0')}.jpg`), 'w'));
  }
  writeFileSync(join(data, 'READY'), '');
}

const project = join(tmpdir(), `concord-bench-index-${process.pid}`);
rmSync(project, { recursive: true, force: true });
const t0 = performance.now();
const db = openDb(project, { create: true });
const r = importAbaw(db, { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned') });
const seconds = (performance.now() - t0) / 1000;
// maxRSS is the process's true peak (kB), including the bench's own set-up.
const peak = process.resourceUsage().maxRSS * 1024;
db.close();
rmSync(project, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'index-abaw',
    videos: r.videos.length,
    frames: r.frames,
    errors: r.errors.length,
    seconds: Number(seconds.toFixed(2)),
    framesPerSec: Math.round(r.frames / seconds),
    peakRssMB: Math.round(peak / 2 ** 20),
    goal: { seconds: 20, peakRssMB: 600 },
  }),
);
