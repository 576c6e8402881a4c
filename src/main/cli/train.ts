// `concord train | finetune | infer | crossfit`: each runs one trainer process (train-runner.ts)
// and prints its events: per-epoch lines (or JSON lines with --json) on stdout, a progress bar on
// stderr; Ctrl-C cancels cooperatively (the last checkpoint stays usable; --resume continues).
// They start the process themselves rather than through the core's train.start / infer.start:
// those have no fromFile, crossfit or resume-latest fields, and the core relays no run, warning or
// pause events, which these commands print. `pretrain` (pretrain.ts) goes through the core.
import type { TrainerLauncher } from '../core/jobs';
import { int, UsageError } from './args';
import type { Io } from './io';
import { runTrainerJob } from './train-runner';
import { configFromFlags, parseTrainArgs, resumeFields, startingWeights, trainProject } from './train-options';
import { finish, guarded, scratchHint } from './train-output';

export { scratchHint } from './train-output';
/** `concord eval` lives in eval.ts; test/unit/trainer/eval-files.test.ts imports it from here. */
export { evalCommand } from './eval';

export async function train(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args);
    const dir = trainProject(positionals);
    const json = Boolean(values.json);
    const config = configFromFlags(values);
    const hint = scratchHint(config, Boolean(values.resume));
    if (hint) io.err(hint);
    const r = await runTrainerJob({
      projectDir: dir,
      message: { mode: 'train', config, ...resumeFields(values) },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'training');
  });
}

export async function finetune(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args, { from: { type: 'string' } });
    const dir = trainProject(positionals);
    const json = Boolean(values.json);
    const resume = resumeFields(values);
    if (!resume.resume && !values.from) throw new UsageError('--from RUN|FILE.safetensors is required');
    const source = resume.resume ? {} : startingWeights(values.from as string);
    const r = await runTrainerJob({
      projectDir: dir,
      message: { mode: 'finetune', config: configFromFlags(values), ...resume, ...source },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'finetuning');
  });
}

export async function infer(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args);
    const dir = trainProject(positionals);
    const json = Boolean(values.json);
    const backend = values.backend as string | undefined;
    const r = await runTrainerJob({
      projectDir: dir,
      message: { mode: 'infer', runId: int(values, 'run'), config: backend ? { backend } : {} },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'inference');
  });
}

export async function crossfit(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args, { folds: { type: 'string' }, from: { type: 'string' } });
    const dir = trainProject(positionals);
    const json = Boolean(values.json);
    const resume = resumeFields(values);
    const folds = int(values, 'folds');
    if (!resume.resume && (folds === undefined || folds < 2)) throw new UsageError('--folds K (K >= 2) is required');
    const r = await runTrainerJob({
      projectDir: dir,
      message: {
        mode: 'crossfit',
        folds,
        config: configFromFlags(values),
        ...resume,
        ...(resume.resume ? {} : startingWeights(values.from as string | undefined)),
      },
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'cross-fit');
  });
}
