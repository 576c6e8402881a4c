// `concord pretrain`: imports an image dataset into the project (its own "videos", source
// rafdb/affectnet/csv) with the core's import.images, then runs the core's pretrain-then-finetune
// job (train.pretrainFinetune, the same request the desktop app's Pretrain button sends): a
// 'pretrain' run on those images only, then a 'finetune' run from it on the project's video frames.
import { resolve } from 'node:path';
import type { PretrainFinetuneResult, TrainerLauncher } from '../core/app-training';
import type { importImages } from '../core/ingest/images';
import { int, UsageError } from './args';
import { openCore, runCoreJob } from './core-job';
import type { Io } from './io';
import { CANCELLING, trainingPrinter } from './train-runner';
import { configFromFlags, parseTrainArgs, resumeFields, trainProject } from './train-options';
import { finish, guarded } from './train-output';

const IMAGE_FORMATS = ['rafdb', 'affectnet', 'csv'] as const;
type ImageFormat = (typeof IMAGE_FORMATS)[number];

export async function pretrain(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args, {
      images: { type: 'string' },
      root: { type: 'string' },
      format: { type: 'string' },
      'pretrain-epochs': { type: 'string' },
      'skip-finetune': { type: 'boolean' },
    });
    const dir = trainProject(positionals);
    const json = Boolean(values.json);
    const format = values.format as string | undefined;
    if (typeof values.images !== 'string' || typeof values.root !== 'string')
      throw new UsageError('--images LIST and --root DIR are required');
    if (!format || !(IMAGE_FORMATS as readonly string[]).includes(format)) throw new UsageError('--format must be rafdb, affectnet or csv');
    const config = configFromFlags(values);
    const pretrainEpochs = int(values, 'pretrain-epochs');
    const resume = resumeFields(values);

    const core = await openCore(dir, launch ? { launchTrainer: launch } : {});
    try {
      const list = resolve(values.images);
      const root = resolve(values.root);
      const imp = await runCoreJob<ReturnType<typeof importImages>>(
        core,
        () => core.request('import.images', { list, root, format: format as ImageFormat }),
        { io, json, cancelling: '\ncancelling… (Ctrl-C again to kill)' },
      );
      for (const w of imp.warnings) io.err(`warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.reason}`);
      if (json) io.out(JSON.stringify({ event: 'import', ...imp }));
      else io.err(`imported ${imp.groups.map((g) => `${g.name} ${g.images} images`).join(', ')}`);

      const r = await runCoreJob<PretrainFinetuneResult>(
        core,
        () =>
          core.request('train.pretrainFinetune', {
            config,
            sources: [format as ImageFormat],
            ...(pretrainEpochs ? { pretrainEpochs } : {}),
            ...(values['skip-finetune'] ? { skipFinetune: true } : {}),
            ...(resume.resume ? { resume: true, ...(resume.runId !== undefined ? { resumeRun: resume.runId } : {}) } : {}),
          }),
        {
          io,
          json,
          cancelling: CANCELLING,
          watch: trainingPrinter(core, io, json, (previous) => `pretraining done (run ${previous}); finetuning on the video frames`),
        },
      );
      return r.finetune ? finish(io, json, r.finetune, 'finetuning') : finish(io, json, r.pretrain, 'pretraining');
    } finally {
      await core.close();
    }
  });
}
