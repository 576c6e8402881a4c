// `concord serve` under load: a 1,000,000-frame project (built here, or reused with --project DIR),
// 20 concurrent clients for 60 s against review.queue, review.frame and /frames/ID.jpg while a
// second process writes decisions. Prints one JSON line: requests/s, p50/p99 per endpoint, errors,
// the writer's decisions, server RSS before/after. Goal (issue 11): p99 < 200 ms and no errors.
// Usage: npx tsx bench/serve-load.ts [--project DIR] [--frames N] [--clients N] [--seconds S]
//          [--write-every MS] [--endpoints queue,frame,image] [--keep]
// (internal: --writer DIR --seconds S runs the decision-writing child)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isProjectDir, openDb, type Db } from '../src/store/db';
import { upsertVideo } from '../src/store/dataset';
import { createRun, updateRun } from '../src/store/runs';
import { putPredictions } from '../src/store/predictions';
import { replaceOpenFlags, type NewFlag } from '../src/store/flags';
import { ABAW7_HEADER } from '../src/shared/labels';

// other work on the machine skews the figures: the JSON says how busy it was when the run began
const LOAD_AT_START = Math.round(loadavg()[0]! * 100) / 100;
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');
const { values: args } = parseArgs({
  options: {
    project: { type: 'string' },
    frames: { type: 'string', default: '1000000' },
    clients: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    'write-every': { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    endpoints: { type: 'string', default: 'queue,frame,image' },
    writer: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const VIDEOS = 500;
const NETS = 3;
const CLASSES = 7;
const POOL = 5000; // frames the clients ask for (each gets a crop on disk)

let seed = 7;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A softmax-like vector per network, peaked on class c: one shared array per class keeps the build fast. */
const PROBS = Array.from({ length: CLASSES }, (_, c) =>
  Float32Array.from({ length: NETS * CLASSES }, (_, k) => (k % CLASSES === c ? 0.85 : 0.15 / (CLASSES - 1))),
);

/** Videos, labels, one finished run with predictions for every frame, and flags on ~30% of the frames. */
function buildProject(dir: string, frames: number): void {
  const db = openDb(dir, { create: true });
  try {
    const perVideo = Math.ceil(frames / VIDEOS);
    const labels = new Int8Array(perVideo);
    const hasFace = new Uint8Array(perVideo).fill(1);
    for (let v = 0; v < VIDEOS; v++) {
      for (let i = 0; i < perVideo; i++) labels[i] = Math.floor(rand() * CLASSES);
      const name = `video-${v}`;
      upsertVideo(
        db,
        {
          name,
          split: v % 5 === 0 ? 'Validation_Set' : 'Train_Set',
          source: 'abaw',
          labelSet: 'abaw7',
          header: ABAW7_HEADER,
          annotationFile: null,
          framesDir: join(dir, 'crops', name),
        },
        { labels, hasFace },
      );
    }
    const runId = createRun(db, { kind: 'train', config: { nets: NETS, bench: 'serve-load' } });
    updateRun(db, runId, { status: 'done', finished: true });
    const rows = db
      .prepare('SELECT f.id, f.video_id, f.idx, l.current_label FROM frames f JOIN labels l ON l.frame_id = f.id ORDER BY f.id')
      .raw()
      .all() as [number, number, number, number][];
    // flagged stretches suggest another class; the predictions agree, so review.frame shows a consensus
    const suggestedOf = new Int8Array(rows.length).fill(-1);
    let inRun = false;
    let suggested = 0;
    rows.forEach(([, , , given], i) => {
      if (rand() < 0.05) [inRun, suggested] = [!inRun, Math.floor(rand() * CLASSES)];
      if (inRun || rand() < 0.05) suggestedOf[i] = suggested === given ? (given + 1) % CLASSES : suggested;
    });
    for (let at = 0; at < rows.length; at += 50_000) {
      const batch = rows
        .slice(at, at + 50_000)
        .map(([frameId, , , given], k) => ({ frameId, probs: PROBS[suggestedOf[at + k]! >= 0 ? suggestedOf[at + k]! : given]! }));
      putPredictions(db, runId, NETS, CLASSES, batch);
    }
    function* flags(): Generator<NewFlag> {
      for (let i = 0; i < rows.length; i++) {
        const s = suggestedOf[i]!;
        if (s < 0) continue;
        const [frameId, videoId, idx, given] = rows[i]!;
        const score = Math.round((0.5 + rand() / 2) * 1000) / 1000;
        yield {
          runId,
          frameId,
          videoId,
          idx,
          rule: 'all-agree',
          given,
          suggested: s,
          score,
          allAgree: true,
          details: { perNet: [0.85, 0.85, 0.85] },
        };
      }
    }
    replaceOpenFlags(db, flags());
    db.pragma('optimize');
  } finally {
    db.close();
  }
}

/** Open flags' frames the clients (and the writer) use, each with a small JPEG-shaped crop on disk. */
function framePool(db: Db, dir: string): { frameId: number; video: string; videoId: number }[] {
  const pool = db
    .prepare(
      `SELECT f.id AS frameId, v.name AS video, v.id AS videoId, f.idx AS idx FROM flags g JOIN frames f ON f.id = g.frame_id
      JOIN videos v ON v.id = f.video_id WHERE g.status = 'open' ORDER BY random() LIMIT ${POOL}`,
    )
    .all() as { frameId: number; video: string; videoId: number; idx: number }[];
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4096, 0x55), Buffer.from([0xff, 0xd9])]);
  for (const p of pool) {
    const file = join(dir, 'crops', p.video, `${String(p.idx).padStart(5, '0')}.jpg`);
    if (existsSync(file)) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, jpeg);
  }
  return pool;
}

/** The second process: decisions on open flags, one every --write-every ms, from its "ready" line until stdin closes. */
async function writerMain(dir: string): Promise<void> {
  const { decide } = await import('../src/main/core/review/decisions');
  const db = openDb(dir);
  const ids = (db.prepare("SELECT frame_id FROM flags WHERE status = 'open' ORDER BY random() LIMIT 20000").raw().all() as [number][]).map(
    (r) => r[0],
  );
  const actions = ['accept', 'keep', 'skip', 'relabel'] as const;
  const lat: number[] = [];
  let errors = 0;
  let stop = false;
  process.stdin.on('end', () => (stop = true)).resume();
  process.stdout.write('ready\n');
  while (!stop) {
    const action = pick(actions);
    const t = performance.now();
    try {
      decide(db, {
        frameIds: [pick(ids)],
        action,
        ...(action === 'relabel' ? { label: Math.floor(rand() * CLASSES) } : {}),
        actor: 'bench-writer',
      });
      lat.push(performance.now() - t);
    } catch {
      errors++;
    }
    await sleep(Number(args['write-every']));
  }
  db.close();
  process.stdout.write(JSON.stringify({ decisions: lat.length, errors, ...pcts(lat) }) + '\n');
  process.exit(0);
}

function pcts(xs: number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10 : 0);
  return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s.length ? Math.round(s[s.length - 1]! * 10) / 10 : 0 };
}

function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

// e.g. SERVE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the server
const SERVE_NODE_ARGS = (process.env.SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Start `concord serve` and read its URL and token from the banner. */
function startServe(dir: string): Promise<{ child: ChildProcess; port: number; token: string }> {
  const child = spawn(process.execPath, [...SERVE_NODE_ARGS, join(REPO, 'bin/concord.mjs'), 'serve', dir, '--port', '0'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /open http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+)/.exec(out);
      if (m) ok({ child, port: Number(m[1]), token: m[2]! });
    });
    child.on('exit', (code) => fail(new Error(`concord serve exited ${code}: ${err}`)));
  });
}

type Endpoint = 'queue' | 'frame' | 'image';

async function loadMain(): Promise<void> {
  const frames = Number(args.frames);
  const clients = Number(args.clients);
  const dir = resolve(args.project ?? mkdtempSync(join(tmpdir(), 'concord-bench-serve-')));
  const t0 = performance.now();
  const reused = isProjectDir(dir);
  if (!reused) buildProject(dir, frames);
  const buildMs = Math.round(performance.now() - t0);
  const db = openDb(dir, { readonly: true });
  const pool = framePool(db, dir);
  const projectFrames = (db.prepare('SELECT COUNT(*) AS n FROM frames').get() as { n: number }).n;
  const openFlags = (db.prepare("SELECT COUNT(*) AS n FROM flags WHERE status = 'open'").get() as { n: number }).n;
  const pairs = db.prepare("SELECT given, suggested FROM flag_pair_counts WHERE status = 'open' AND n > 0").all() as {
    given: number;
    suggested: number;
  }[];
  db.close();

  const serve = await startServe(dir);
  process.once('exit', () => serve.child.kill('SIGKILL')); // a crashed bench leaves no server behind
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const headers = { Authorization: `Bearer ${serve.token}` };
  const call = (method: 'GET' | 'POST', path: string, body?: unknown) =>
    new Promise<number>((ok, fail) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port: serve.port,
          path,
          method,
          agent,
          headers: data ? { ...headers, 'Content-Type': 'application/json' } : headers,
        },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => ok(res.statusCode ?? 0));
        },
      );
      req.on('error', fail);
      req.end(data);
    });
  const send: Record<Endpoint, () => Promise<number>> = {
    queue: () => {
      const r = rand();
      const pair = pick(pairs);
      const filter = r < 0.4 ? {} : r < 0.7 ? { video: pick(pool).video } : { given: pair.given, suggested: pair.suggested };
      return call('POST', '/api/review.queue', { filter, limit: 50 });
    },
    frame: () => call('POST', '/api/review.frame', { frameId: pick(pool).frameId }),
    image: () => call('GET', `/frames/${pick(pool).frameId}.jpg`),
  };
  const names = args.endpoints!.split(',').filter((n): n is Endpoint => n in send);
  if (!names.length) throw new Error(`--endpoints: pick from ${Object.keys(send).join(',')}`);
  for (const n of names) await send[n](); // warm: statements prepared, pages cached
  const before = rssMb(serve.child.pid!);

  // the writer starts (tsx compiles it) before the clock does, and writes throughout the load
  const writer = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--writer', dir, '--write-every', args['write-every']!],
    {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  process.once('exit', () => writer.kill('SIGKILL'));
  let writerOut = '';
  const writerReady = new Promise<void>((ok) => writer.stdout!.on('data', (d) => (writerOut += d).includes('ready') && ok()));
  const writerDone = new Promise<void>((ok) => writer.on('exit', () => ok()));
  await writerReady;
  await sleep(1000);

  const lat: Record<Endpoint, number[]> = { queue: [], frame: [], image: [] };
  const errors: Record<Endpoint, number> = { queue: 0, frame: 0, image: 0 };
  const errorSamples: string[] = [];
  const serverCpu0 = cpuSeconds(serve.child.pid!);
  const clientCpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < end; i++) {
        const n = names[i % names.length]!;
        const t = performance.now();
        try {
          const status = await send[n]();
          if (status !== 200) {
            errors[n]++;
            if (errorSamples.length < 5) errorSamples.push(`${n}: HTTP ${status}`);
          } else lat[n].push(performance.now() - t);
        } catch (e) {
          errors[n]++;
          if (errorSamples.length < 5) errorSamples.push(`${n}: ${(e as Error).message}`);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const after = rssMb(serve.child.pid!);
  const serverCpu = cpuSeconds(serve.child.pid!) - serverCpu0;
  const clientCpu = process.cpuUsage(clientCpu0);
  const writeSeconds = (performance.now() - start) / 1000 + 1;
  writer.stdin!.end();
  await writerDone;
  serve.child.kill('SIGTERM');
  await new Promise((r) => serve.child.once('exit', r));
  agent.destroy();

  const endpoints = Object.fromEntries(
    names.map((n) => [n, { requests: lat[n].length, perSec: Math.round(lat[n].length / elapsed), errors: errors[n], ...pcts(lat[n]) }]),
  );
  const requests = names.reduce((s, n) => s + lat[n].length, 0);
  const errorCount = names.reduce((s, n) => s + errors[n], 0);
  const last = writerOut.trim().split('\n').at(-1) ?? '';
  const writerFigures = last.startsWith('{') ? (JSON.parse(last) as Record<string, number>) : null;
  const worstP99 = Math.max(...names.map((n) => pcts(lat[n]).p99Ms));
  console.log(
    JSON.stringify({
      bench: 'serve-load',
      frames: projectFrames,
      openFlags,
      videos: VIDEOS,
      reusedProject: reused,
      buildMs,
      clients,
      seconds: Math.round(elapsed * 10) / 10,
      requests,
      requestsPerSec: Math.round(requests / elapsed),
      errors: errorCount,
      errorSamples,
      endpoints,
      writer: writerFigures && { ...writerFigures, perSec: Math.round((writerFigures.decisions ?? 0) / writeSeconds) },
      serverRssMb: { before: before.rss, after: after.rss, peak: after.peak },
      // share of one core each used during the load: on a small machine the clients compete with the server
      cpuPercentOfOneCore: {
        server: Math.round((serverCpu / elapsed) * 100),
        clients: Math.round(((clientCpu.user + clientCpu.system) / 1e6 / elapsed) * 100),
      },
      goal: { p99UnderMs: 200, worstP99Ms: worstP99, met: worstP99 < 200 && errorCount === 0 },
      machine: {
        loadAvg1mAtStart: LOAD_AT_START,
        cpus: cpus().length,
        model: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        platform: process.platform,
      },
    }),
  );
  if (!args.project && !args.keep) rmSync(dir, { recursive: true, force: true });
}

await (args.writer ? writerMain(resolve(args.writer)) : loadMain());
