// `concord infer P`: the predictions the flags are scored on, chosen as the Review view's Score
// chooses them. Where the project's out-of-sample plan (flags.plan) makes out-of-sample the default
// (enough video groups, or an image list, and an estimate within the budget on this machine) it
// cross-fits K folds with the default recipe, so each frame is predicted by networks that never
// trained on it; otherwise the newest run's networks predict every frame (in-sample). --in-sample
// and --out-of-sample [--folds K] choose; --run ID predicts with that run's networks. After a
// cross-fit the trained run predicts too (in-sample): scoring judges the frames outside the
// stretches the cross-fit contradicts by its verdicts (review/flags.ts byStretch).
import type { ConcordCore, JobInfo, OutOfSamplePlan } from '../../shared/api';
import type { BackendChoice } from '../../trainer/config';
import type { TrainerResult } from '../../trainer/protocol';
import type { TrainerLauncher } from '../core/app-training';
import { int, UsageError, type Flags } from './args';
import { openCore } from './core-job';
import type { Io } from './io';
import { runCoreTraining } from './train-runner';
import { configFromFlags, parseTrainArgs, trainProject } from './train-options';
import { finish, guarded } from './train-output';

type Choice =
  | { kind: 'in-sample'; line: string | null }
  | { kind: 'out-of-sample'; folds: number; line: string }
  | { kind: 'current'; crossfitRun: number; line: string };

const minutes = (s: number | null) => (s === null ? 'an unknown time' : `about ${Math.max(1, Math.round(s / 60))} min`);

/** What a plain `concord infer` does on this project, and the line that tells the user. */
export function chooseInference(plan: OutOfSamplePlan, asked: { inSample: boolean; outOfSample: boolean; folds?: number }): Choice {
  if (asked.inSample) return { kind: 'in-sample', line: null };
  if (asked.outOfSample) {
    if (!plan.available) throw new UsageError(`--out-of-sample: ${plan.reason}`);
    const folds = asked.folds ?? plan.folds;
    if (folds < 2 || folds > plan.maxFolds) throw new UsageError(`--folds K must be between 2 and ${plan.maxFolds} here`);
    return { kind: 'out-of-sample', folds, line: `out-of-sample: cross-fitting ${folds} folds with the default recipe` };
  }
  if (!plan.recommended) return { kind: 'in-sample', line: `in-sample: ${plan.reason}` };
  if (plan.crossfitRun !== null && (plan.trainedRun === null || plan.crossfitRun > plan.trainedRun))
    return {
      kind: 'current',
      crossfitRun: plan.crossfitRun,
      line: `cross-fit run ${plan.crossfitRun} already predicted every frame out-of-sample, after the newest training run; nothing to do (--out-of-sample cross-fits again, --in-sample predicts with the trained run's networks)`,
    };
  return {
    kind: 'out-of-sample',
    folds: plan.folds,
    line: `${plan.reason}: cross-fitting ${plan.folds} folds with the default recipe, ${minutes(plan.estimateSeconds)} (--in-sample predicts with the trained run's networks instead, in seconds)`,
  };
}

function asked(values: Flags) {
  const inSample = Boolean(values['in-sample']);
  const folds = int(values, 'folds');
  const outOfSample = Boolean(values['out-of-sample']) || folds !== undefined;
  const runId = int(values, 'run');
  if (inSample && outOfSample) throw new UsageError('--in-sample and --out-of-sample (or --folds) exclude each other');
  if (runId !== undefined && outOfSample)
    throw new UsageError("--run predicts with that run's networks (in-sample); --out-of-sample cross-fits new ones");
  // --run names the networks to predict with: that is in-sample
  return { inSample: inSample || runId !== undefined, outOfSample, runId, ...(folds !== undefined ? { folds } : {}) };
}

export async function infer(args: string[], io: Io, launch?: TrainerLauncher): Promise<number> {
  return guarded(io, async () => {
    const { positionals, values } = parseTrainArgs(args, {
      'in-sample': { type: 'boolean' },
      'out-of-sample': { type: 'boolean' },
      folds: { type: 'string' },
    });
    const projectDir = trainProject(positionals);
    const json = Boolean(values.json);
    const want = asked(values);
    // Validated like train's --backend (one message naming the choices), before any trainer starts.
    const config = configFromFlags(values);
    const backend = config.backend as BackendChoice | undefined;
    const plan = await readPlan(projectDir);
    const choice = chooseInference(plan, want);
    if (choice.line && !json) io.err(choice.line);
    const inSample = (core: ConcordCore): Promise<JobInfo> =>
      core.request('infer.start', { ...(want.runId !== undefined ? { runId: want.runId } : {}), ...(backend ? { backend } : {}) });
    if (choice.kind === 'in-sample')
      return finish(io, json, await runCoreTraining<TrainerResult>({ projectDir, start: inSample, json, io, launch }), 'inference');
    if (choice.kind === 'current') {
      if (json)
        io.out(JSON.stringify({ event: 'done', mode: 'crossfit', status: 'done', runId: choice.crossfitRun, skipped: choice.line }));
      else io.out(`inference done, run ${choice.crossfitRun} (cross-fit, out-of-sample)`);
    } else {
      const start = (core: ConcordCore) => core.request('train.start', { kind: 'crossfit', folds: choice.folds, config });
      const code = finish(
        io,
        json,
        await runCoreTraining<TrainerResult>({ projectDir, start, json, io, launch }),
        'cross-fit (out-of-sample inference)',
      );
      if (code !== 0) return code;
    }
    // review/flags.ts byStretch: the trained run judges the frames outside the stretches the cross-fit contradicts
    const trained = plan.trainedRun;
    if (trained === null) return 0;
    if (!json)
      io.err(`predicting with run ${trained}'s networks too (in-sample), for the frames outside the stretches the cross-fit contradicts`);
    const start = (core: ConcordCore) => core.request('infer.start', { runId: trained, ...(backend ? { backend } : {}) });
    return finish(io, json, await runCoreTraining<TrainerResult>({ projectDir, start, json, io, launch }), 'inference');
  });
}

async function readPlan(projectDir: string): Promise<OutOfSamplePlan> {
  const core = await openCore(projectDir);
  try {
    return await core.request('flags.plan', {});
  } finally {
    await core.close();
  }
}
