// Scoring: where the flags come from. In-sample, the chosen run's networks predict every frame
// (inference) and the rule scores them; out-of-sample, a K-fold cross-fit by video trains while it
// predicts (each video by the fold that left it out), the trained run predicts in-sample beside it,
// then the rule scores the cross-fit by stretch (core/review/flags.ts byStretch). The core's plan
// (flags.plan) gives the folds, the cost on this machine and which one is the default.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import {
  DEFAULT_FLAG_RULE,
  type FlagRule,
  type JobInfo,
  type JobKind,
  type OutOfSamplePlan,
  type Progress,
  type ScoreSummary,
} from '../../../shared/api';
import { useApi } from '../api';
import { runJob } from '../job-result';
import { useReviewStore } from './review';

export type PredictionChoice = 'in-sample' | 'out-of-sample';

export const useScoringStore = defineStore('scoring', () => {
  const api = useApi();
  const options = ref<{ rule: FlagRule; threshold: number | null; smooth: number; runId: number | null }>({
    rule: DEFAULT_FLAG_RULE,
    threshold: null,
    // the app's default (core/review/flags.ts DEFAULT_SMOOTH); 0 scores each frame on its own
    smooth: 2,
    runId: null,
  });
  const plan = ref<OutOfSamplePlan | null>(null);
  /** in-sample or out-of-sample; null until the person picks one (then the plan's default shows) */
  const picked = ref<PredictionChoice | null>(null);
  const folds = ref<number | null>(null);
  const source = computed<PredictionChoice>(() => picked.value ?? (plan.value?.recommended ? 'out-of-sample' : 'in-sample'));
  const foldCount = computed(() => folds.value ?? plan.value?.folds ?? 3);
  /** the inference or cross-fit job that makes the predictions, while it runs (and how it ended) */
  const job = ref<{ jobId: string; kind: JobKind; status: JobInfo['status']; progress: Progress | null; error: string | null } | null>(
    null,
  );
  const scoreJob = ref<{ jobId: string; progress: Progress | null } | null>(null);
  const lastScore = ref<ScoreSummary | null>(null);
  const error = ref<string | null>(null);
  const busy = computed(() => job.value?.status === 'running' || scoreJob.value !== null);

  async function refreshPlan(): Promise<void> {
    try {
      plan.value = await api.request('flags.plan', {});
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function setSource(v: PredictionChoice): void {
    picked.value = v;
  }

  function setFolds(k: number): void {
    folds.value = k;
  }

  /** Scores the stored predictions of `runId` (default: the chosen run, else the newest with predictions). */
  async function scoreRun(runId?: number): Promise<void> {
    if (scoreJob.value) return;
    error.value = null;
    try {
      const s = options.value;
      const run = runId ?? s.runId ?? undefined;
      const payload = {
        rule: s.rule,
        ...(s.threshold !== null ? { threshold: s.threshold } : {}),
        ...(s.smooth > 0 ? { smooth: s.smooth } : {}),
        ...(run !== undefined ? { runId: run } : {}),
      };
      lastScore.value = await runJob<ScoreSummary>(api, () => api.request('flags.score', payload), {
        onStart: (j) => (scoreJob.value = { jobId: j.jobId, progress: j.progress }),
        onProgress: (p) => scoreJob.value && (scoreJob.value.progress = p),
      });
      scoreJob.value = null;
      await useReviewStore().reload();
      void refreshPlan();
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      scoreJob.value = null;
    }
  }

  /** Follows a prediction job (inference or cross-fit) to its end, then does what follows (scoring) with what it predicted. */
  async function predictThen(start: () => Promise<JobInfo>, then: (result: unknown, info: JobInfo) => Promise<void>) {
    error.value = null;
    let info: JobInfo | null = null;
    try {
      const result = await runJob<unknown>(api, start, {
        onStart: (j) => {
          info = j;
          job.value = { jobId: j.jobId, kind: j.kind, status: j.status, progress: j.progress, error: null };
        },
        onProgress: (p) => job.value && (job.value.progress = p),
      });
      // a trainer job that was cancelled or failed still ends with a result: score only what finished
      const status = (result as { status?: string } | null)?.status ?? 'done';
      if (job.value) job.value.status = status === 'done' ? 'done' : status === 'cancelled' ? 'cancelled' : 'failed';
      if (status !== 'done') return;
      await then(result, info!);
    } catch (e) {
      const msg = (e as Error).message;
      if (job.value) Object.assign(job.value, { status: /cancel/i.test(msg) ? 'cancelled' : 'failed', error: msg });
      else error.value = msg;
    }
  }

  /** Predicts every frame with the chosen run's networks (in-sample), then scores. */
  function startInference(runId?: number): Promise<void> {
    const run = runId ?? options.value.runId ?? undefined;
    return predictThen(
      () => api.request('infer.start', run !== undefined ? { runId: run } : {}),
      () => scoreRun(run),
    );
  }

  /**
   * Scores a cross-fit once the trained run has predicted every frame in-sample (seconds when it
   * already has): the core keeps the cross-fit's flags on the stretches it contradicts and lets the
   * trained run judge the other frames (core/review/flags.ts byStretch).
   */
  function scoreCrossfit(crossfitRun: number | undefined): Promise<void> {
    const trained = plan.value?.trainedRun ?? null;
    if (trained === null) return scoreRun(crossfitRun);
    return predictThen(
      () => api.request('infer.start', { runId: trained }),
      () => scoreRun(crossfitRun),
    );
  }

  /** Cross-fits K folds by video (out-of-sample predictions while it trains), then scores that run. */
  function startCrossfit(): Promise<void> {
    return predictThen(
      () => api.request('train.start', { kind: 'crossfit', folds: foldCount.value, config: {} }),
      (result, info) => scoreCrossfit((result as { runId?: number } | null)?.runId ?? info.runId),
    );
  }

  /**
   * The Score button: out-of-sample scores the newest cross-fit (training one first when there is
   * none); in-sample scores the chosen run's predictions, predicting first when it has none.
   */
  async function score(hasPredictions: (runId: number | null) => boolean): Promise<void> {
    if (busy.value) return;
    if (source.value === 'out-of-sample') {
      if (!plan.value) await refreshPlan();
      if (plan.value?.crossfitRun != null && folds.value === null) return scoreCrossfit(plan.value.crossfitRun);
      return startCrossfit();
    }
    if (hasPredictions(options.value.runId)) return scoreRun();
    return startInference();
  }

  async function cancel(): Promise<void> {
    const id = scoreJob.value?.jobId ?? (job.value?.status === 'running' ? job.value.jobId : null);
    if (id) await api.request('jobs.cancel', { jobId: id }).catch(() => undefined);
  }

  api.on('job.done', (e) => {
    if (e.kind.startsWith('train.')) void refreshPlan();
  });
  api.onReconnect(() => void refreshPlan());

  return {
    options,
    plan,
    source,
    foldCount,
    job,
    scoreJob,
    lastScore,
    error,
    busy,
    refreshPlan,
    setSource,
    setFolds,
    scoreRun,
    startInference,
    startCrossfit,
    score,
    cancel,
  };
});
