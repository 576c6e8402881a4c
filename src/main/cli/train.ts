// `concord train | finetune | crossfit` (and infer, infer.ts): each sends one core request (train.start or
// infer.start, the same the desktop app and `concord serve` send) and prints the job's events
// (train-runner.ts): per-epoch lines (or JSON lines with --json) on stdout, a progress bar on
// stderr; Ctrl-C cancels cooperatively (the last checkpoint stays usable; --resume continues).
import type { TrainerResult } from '../../trainer/protocol';
import type { TrainerLauncher } from '../core/app-training';
import { int, UsageError, type Flags } from './args';
import type { Io } from './io';
import { runCoreTraining } from './train-runner';
import { configFromFlags, parseTrainArgs, resumeFields, startingWeights, trainProject } from './train-options';
import { finish, guarded } from './train-output';

/** `concord eval` lives in eval.ts; test/unit/trainer/eval-files.test.ts imports it from here. */
export { evalCommand } from './eval';
/** `concord infer` lives in infer.ts (it follows the out-of-sample plan). */
export { infer } from './infer';

/** train.start's resume fields from `--resume [--run ID]`. */
function resumeRequest(values: Flags): { resume?: true; resumeRun?: number } {
  const r = resumeFields(values);
  if (!r.resume) return {};
  return { resume: true, ...(r.runId !== undefined ? { resumeRun: r.runId } : {}) };
}

export async function train(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args);
    const projectDir = trainProject(positionals);
    const json = Boolean(values.json);
    const config = configFromFlags(values);
    const resume = resumeRequest(values);
    const r = await runCoreTraining<TrainerResult>({
      projectDir,
      start: (core) => core.request('train.start', { kind: 'train', config, ...resume }),
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
    const projectDir = trainProject(positionals);
    const json = Boolean(values.json);
    const resume = resumeRequest(values);
    if (!resume.resume && !values.from) throw new UsageError('--from RUN|FILE.safetensors is required');
    const source = resume.resume ? {} : startingWeights(values.from as string);
    const config = configFromFlags(values);
    const r = await runCoreTraining<TrainerResult>({
      projectDir,
      start: (core) => core.request('train.start', { kind: 'finetune', config, ...resume, ...source }),
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'finetuning');
  });
}

export async function crossfit(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args, {
      folds: { type: 'string' },
      from: { type: 'string' },
      'fold-by': { type: 'string' },
    });
    const projectDir = trainProject(positionals);
    const json = Boolean(values.json);
    const resume = resumeRequest(values);
    const folds = int(values, 'folds');
    if (!resume.resume && (folds === undefined || folds < 2)) throw new UsageError('--folds K (K >= 2) is required');
    if (folds !== undefined && folds > 50) throw new UsageError('--folds K must be at most 50');
    const foldBy = values['fold-by'] as string | undefined;
    if (foldBy !== undefined && foldBy !== 'video' && foldBy !== 'stretch') throw new UsageError('--fold-by must be video or stretch');
    const config = { ...configFromFlags(values), ...(foldBy ? { foldBy } : {}) };
    const source = resume.resume ? {} : startingWeights(values.from as string | undefined);
    const r = await runCoreTraining<TrainerResult>({
      projectDir,
      start: (core) =>
        core.request('train.start', { kind: 'crossfit', config, ...(folds !== undefined ? { folds } : {}), ...resume, ...source }),
      json,
      io,
      launch,
    });
    return finish(io, json, r, 'cross-fit');
  });
}
