import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh temp folder whose name has a space and non-ASCII characters, as users' paths do. */
export function tempDir(prefix = 'concord test é '): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeFile(path: string, content: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

export const HEADER7 = 'Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise';

/** A minimal valid JPEG-looking file (SOI ... EOI); enough for listing and marker checks. */
export const FAKE_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0xff, 0xd9]);

/** Lay out an ABAW-shaped folder: annotations/<split>/<name>.txt and cropped_aligned/<name>/NNNNN.jpg. */
export function makeAbaw(
  root: string,
  videos: { split: string; name: string; labels: number[]; missing?: number[]; header?: string; raw?: string }[],
): { annotations: string; frames: string } {
  const annotations = join(root, 'annotations');
  const frames = join(root, 'cropped_aligned');
  for (const v of videos) {
    const text = v.raw ?? [v.header ?? HEADER7, ...v.labels.map(String)].join('\n') + '\n';
    writeFile(join(annotations, v.split, `${v.name}.txt`), text);
    mkdirSync(join(frames, v.name), { recursive: true });
    for (let i = 1; i <= v.labels.length; i++) {
      if (v.missing?.includes(i)) continue;
      writeFileSync(join(frames, v.name, `${String(i).padStart(5, '0')}.jpg`), FAKE_JPEG);
    }
  }
  return { annotations, frames };
}
