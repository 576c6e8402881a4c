// `concord import abaw | images | video`: each is the core's import.* job, run to the end with a
// progress bar (Ctrl-C cancels it); the CLI only parses flags and prints the job's result.
import { resolve } from 'node:path';
import { assertProject } from '../../store/db';
import type { AbawImportResult } from '../core/ingest/abaw';
import type { importImages } from '../core/ingest/images';
import type { VideoImportResult } from '../core/ingest/video-import';
import { int, need, oneOf, parse, projectArg, str, UsageError, type Flags } from './args';
import { openCore, runCoreJob } from './core-job';
import type { Io } from './io';

const CANCELLING = '\ncancelling… (Ctrl-C again to kill)';

type Issue = { file: string; line?: number | null; reason: string };
const where = (i: Issue) => `${i.file}${i.line ? `:${i.line}` : ''}`;

export async function importCommand(args: string[], io: Io): Promise<number> {
  const [kind, ...rest] = args;
  const { positionals, values } = parse(rest, {
    annotations: { type: 'string' },
    frames: { type: 'string' },
    videos: { type: 'string' },
    verify: { type: 'boolean' },
    list: { type: 'string' },
    root: { type: 'string' },
    format: { type: 'string' },
    detector: { type: 'string' },
    'detect-every': { type: 'string' },
  });
  const dir = projectArg(positionals);
  const json = Boolean(values.json);
  if (kind === 'video') return importVideoCommand(dir, values, io);
  if (kind !== 'abaw' && kind !== 'images') {
    assertProject(dir);
    throw new UsageError(`unknown import kind "${kind ?? ''}" (abaw, video or images)`);
  }
  const core = await openCore(dir);
  try {
    if (kind === 'abaw') {
      const videos = str(values, 'videos');
      const payload = {
        annotations: resolve(need(values, 'annotations')),
        frames: resolve(need(values, 'frames')),
        ...(videos ? { videos: resolve(videos) } : {}),
        verify: Boolean(values.verify),
      };
      const r = await runCoreJob<AbawImportResult>(core, () => core.request('import.abaw', payload), { io, json, cancelling: CANCELLING });
      for (const w of r.warnings) io.err(`warning: ${where(w)}: ${w.reason}`);
      for (const e of r.errors) io.err(`error: ${where(e)}: ${e.reason}`);
      const counts = { inserted: 0, updated: 0, unchanged: 0, failed: 0 };
      for (const v of r.videos) counts[v.outcome]++;
      if (json) io.out(JSON.stringify({ ...counts, frames: r.frames, warnings: r.warnings, errors: r.errors }));
      else
        io.out(
          `imported ${r.videos.length - counts.failed} of ${r.videos.length} annotation files (${counts.inserted} new, ${counts.updated} updated, ${counts.unchanged} unchanged), ${r.frames} frame lines`,
        );
      return r.errors.length ? 1 : 0;
    }
    const format = oneOf(need(values, 'format'), ['rafdb', 'affectnet', 'csv'] as const, '--format must be rafdb, affectnet or csv')!;
    const payload = { list: resolve(need(values, 'list')), root: resolve(need(values, 'root')), format };
    const r = await runCoreJob<ReturnType<typeof importImages>>(core, () => core.request('import.images', payload), {
      io,
      json,
      cancelling: CANCELLING,
    });
    for (const w of r.warnings) io.err(`warning: ${where(w)}: ${w.reason}`);
    if (json) io.out(JSON.stringify(r));
    else for (const g of r.groups) io.out(`${g.name}: ${g.images} images (${g.missing} missing)`);
    return 0;
  } finally {
    await core.close();
  }
}

async function importVideoCommand(dir: string, values: Flags, io: Io): Promise<number> {
  const json = Boolean(values.json);
  const detector = oneOf(str(values, 'detector'), ['ssd', 'tiny'] as const, '--detector must be ssd or tiny');
  const detectEvery = int(values, 'detect-every');
  if (detectEvery !== undefined && detectEvery < 1) throw new UsageError(`--detect-every must be 1 or more, got ${detectEvery}`);
  const payload = {
    videos: resolve(need(values, 'videos')),
    annotations: resolve(need(values, 'annotations')),
    ...(detector ? { detector } : {}),
    ...(detectEvery ? { detectEvery } : {}),
  };
  const core = await openCore(dir);
  try {
    const r = await runCoreJob<VideoImportResult>(core, () => core.request('import.video', payload), { io, json, cancelling: CANCELLING });
    for (const w of r.warnings) io.err(`warning: ${where(w)}: ${w.reason}`);
    for (const e of r.errors) io.err(`error: ${where(e)}: ${e.reason}`);
    if (json) io.out(JSON.stringify(r));
    else for (const x of r.videos) io.out(`${x.name}: ${x.frames} frames, ${x.faces} face crops, ${x.fps?.toFixed(2) ?? '?'} fps`);
    // some videos failed: the others are imported, and the status says not all went in
    return r.errors.length ? 1 : 0;
  } finally {
    await core.close();
  }
}
