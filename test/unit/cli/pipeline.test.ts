// The whole demo pipeline through the `concord` command line, in-process, against real files:
// demo-data → init → import abaw → info → train → infer → flags → decide → undo/redo → export,
// then pretrain (image list) → finetune through the core's train.pretrainFinetune.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { main, type Io } from '../../../src/main/cli';
import { scratchHint } from '../../../src/shared/degenerate';
import { openDb } from '../../../src/store/db';
import { parseAbawAnnotation } from '../../../src/main/core/ingest/abaw';
import { tempDir } from '../../helpers/tmp';
import { capture } from '../../helpers/io';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('concord CLI demo pipeline', () => {
  const root = tempDir('concord cli ü ');
  const data = join(root, 'demo data');
  const project = join(root, 'proj');

  it('info reports exactly the counts in the generator files', async () => {
    const gen = await run('demo-data', data, '--videos', '5', '--frames', '40', '--noise', '0.3', '--seed', '5', '--no-video', '--json');
    expect(gen.code).toBe(0);
    expect((await run('init', project)).code).toBe(0);
    const imp = await run(
      'import',
      'abaw',
      project,
      '--annotations',
      join(data, 'annotations'),
      '--frames',
      join(data, 'cropped_aligned'),
      '--json',
    );
    expect(imp.code).toBe(0);
    const info = JSON.parse((await run('info', project, '--json')).out);

    // Count from the generator's own files: ground_truth.csv and the annotation files.
    const gt = readFileSync(join(data, 'ground_truth.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const demo = JSON.parse(readFileSync(join(data, 'demo.json'), 'utf8'));
    expect(info.frames).toBe(gt.length);
    expect(info.labelledFrames).toBe(gt.filter((r) => r[3] !== '-1').length);
    const perClass = new Array(7).fill(0);
    for (const r of gt) if (r[3] !== '-1') perClass[Number(r[3])]++;
    expect(info.perClass).toEqual(perClass);
    let missing = 0;
    let files = 0;
    for (const split of readdirSync(join(data, 'annotations'))) {
      for (const f of readdirSync(join(data, 'annotations', split))) {
        files++;
        const name = f.replace(/\.txt$/, '');
        const lines = parseAbawAnnotation(readFileSync(join(data, 'annotations', split, f), 'utf8'), f).labels.length;
        const crops = new Set(readdirSync(join(data, 'cropped_aligned', name)));
        for (let i = 1; i <= lines; i++) if (!crops.has(`${String(i).padStart(5, '0')}.jpg`)) missing++;
        expect(info.splits[split].frames).toBeGreaterThanOrEqual(lines);
      }
    }
    expect(info.videos).toBe(files);
    expect(info.missingCrops).toBe(missing);
    expect(info.splits.Train_Set.labelled).toBe(demo.splits.Train_Set.labelled);
    expect(info.splits.Validation_Set.frames).toBe(demo.splits.Validation_Set.frames);
  });

  it('trains, infers, flags, records decisions with undo/redo, and exports cleaned labels', async () => {
    const train = await run(
      'train',
      project,
      '--epochs',
      '2',
      '--model',
      'tiny',
      '--input',
      '32',
      '--batch',
      '16',
      '--nets',
      '3',
      '--json',
    );
    expect(train.code, train.err).toBe(0);
    // three networks from random weights at the paper's λmax: the user hears about pretraining
    expect(train.err).toMatch(/note: CCT from random weights with λmax 0.9.*concord pretrain/);
    const db = openDb(project);
    const epochs = db.prepare('SELECT epoch, loss_total, lambda, val FROM epoch_metrics ORDER BY epoch').all() as {
      epoch: number;
      loss_total: number;
      lambda: number;
      val: string;
    }[];
    expect(epochs).toHaveLength(2);
    expect(epochs[1]!.lambda).toBeGreaterThan(epochs[0]!.lambda);
    expect(JSON.parse(epochs[1]!.val).nets).toHaveLength(3);

    expect((await run('infer', project)).code).toBe(0);
    const withCrop = (db.prepare('SELECT COUNT(*) n FROM frames WHERE has_face = 1').get() as { n: number }).n;
    expect((db.prepare('SELECT COUNT(*) n FROM predictions').get() as { n: number }).n).toBe(withCrop);

    const flags = await run('flags', project, '--rule', 'score-threshold', '--threshold', '0', '--top', '3', '--json');
    expect(flags.code, flags.err).toBe(0);
    const top = JSON.parse(flags.out).flags as { video: string; idx: number; given: number; suggested: number }[];
    expect(top.length).toBeGreaterThan(0);
    const f = top[0]!;
    const ref = `${f.video}:${f.idx}`;

    expect((await run('decide', project, '--frame', ref, '--action', 'accept')).code).toBe(0);
    expect((await run('undo', project)).code).toBe(0);
    expect((await run('redo', project)).code).toBe(0);
    const bad = await run('decide', project, '--frame', `${f.video}:99999`, '--action', 'keep');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/there is no frame 99999/);

    const audit = db.prepare('SELECT action, label_before, label_after FROM decisions ORDER BY id').all() as {
      action: string;
      label_before: number;
      label_after: number;
    }[];
    expect(audit.map((a) => a.action)).toEqual(['accept', 'undo', 'redo']);
    expect(audit[0]).toMatchObject({ label_before: f.given, label_after: f.suggested });

    const out = join(root, 'cleaned');
    expect((await run('export', project, '--format', 'abaw', '--out', out)).code).toBe(0);
    const video = db.prepare('SELECT split FROM videos WHERE name = ?').get(f.video) as { split: string };
    const exported = parseAbawAnnotation(readFileSync(join(out, video.split, `${f.video}.txt`), 'utf8'), 'x');
    expect(exported.labels[f.idx - 1]).toBe(f.suggested);
    db.close();
  });

  it('pretrains on an image list then finetunes on the videos, as one core job', async () => {
    // the demo crops as a generic path,label,split image list
    const lines: string[] = [];
    for (const split of readdirSync(join(data, 'annotations'))) {
      for (const f of readdirSync(join(data, 'annotations', split))) {
        const name = f.replace(/\.txt$/, '');
        const labels = parseAbawAnnotation(readFileSync(join(data, 'annotations', split, f), 'utf8'), f).labels;
        const crops = new Set(readdirSync(join(data, 'cropped_aligned', name)));
        labels.forEach((l, i) => {
          const crop = `${String(i + 1).padStart(5, '0')}.jpg`;
          if (l >= 0 && l < 7 && crops.has(crop)) lines.push(`${name}/${crop},${l},${split}`);
        });
      }
    }
    const list = join(root, 'images.csv');
    writeFileSync(list, lines.join('\n') + '\n');
    const r = await run(
      'pretrain',
      project,
      '--images',
      list,
      '--root',
      join(data, 'cropped_aligned'),
      '--format',
      'csv',
      '--epochs',
      '1',
      '--nets',
      '2',
      '--model',
      'tiny',
      '--input',
      '32',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const events = r.out.split('\n').map((l) => JSON.parse(l) as { event: string; kind?: string; runId?: number; mode?: string });
    expect(events.map((e) => e.event)).toEqual(['import', 'run', 'epoch', 'run', 'epoch', 'done']);
    expect(events[1]).toMatchObject({ kind: 'pretrain' });
    expect(events[3]).toMatchObject({ kind: 'finetune' });
    expect(events[5]).toMatchObject({ mode: 'finetune', runId: events[3]!.runId, status: 'done' });
    const db = openDb(project);
    const ft = db.prepare('SELECT config FROM runs WHERE id = ?').get(events[3]!.runId) as { config: string };
    // the finetune starts from the pretrain run and keeps its architecture
    expect(JSON.parse(ft.config)).toMatchObject({ model: 'tiny', inputSize: 32, init: { fromRun: events[1]!.runId } });
    db.close();
  });

  it('gives clear errors for usage mistakes and missing projects', async () => {
    expect((await run('import', 'abaw', join(root, 'nope'), '--annotations', 'a', '--frames', 'b')).err).toMatch(/nope does not exist/);
    expect((await run('import', 'abaw', root, '--annotations', 'a', '--frames', 'b')).err).toMatch(/is not a Concord project/);
    expect((await run('bogus')).code).toBe(2);
    expect((await run('flags', join(root, 'nope'))).code).toBe(1);
  });
});

describe('scratchHint', () => {
  it('speaks only for several networks with λmax above 0.5 and not on resume', () => {
    expect(scratchHint({}, false)).toMatch(/λmax 0.9/);
    expect(scratchHint({ nets: 1 }, false)).toBeNull();
    expect(scratchHint({ lambdaMax: 0.5 }, false)).toBeNull();
    expect(scratchHint({ nets: 2, lambdaMax: 0.8 }, false)).toMatch(/λmax 0.8/);
    expect(scratchHint({}, true)).toBeNull();
  });
});
