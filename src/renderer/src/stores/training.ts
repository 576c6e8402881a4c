// Training: the run configuration, the running job with its live step and epoch series and its
// ETA, stored step series (runs.steps), run history and the runs picked for comparison.
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, triggerRef, watch } from 'vue';
import type { EpochMetrics, JobInfo, JobKind, Progress, RunSummary, StepRecord, TrainKind } from '../../../shared/api';
import { EtaEstimator, runStepProgress, type EtaReading } from '../../../shared/progress';
import { useApi } from '../api';
import { isTrainJob } from '../jobs';
import { toCsv } from '../chart-math';
import { CPU_RECIPE, describeRecipe, RECIPE_FIELDS, recipeFor, type Recipe } from '../recipe';

export type { TrainKind };

export interface StepPoint {
  /** global step: epoch * steps + step */
  x: number;
  epoch: number;
  total: number;
  sup: number;
  cons: number;
  lambda: number;
  lr: number;
  imagesPerSec: number;
}

export interface TrainForm {
  nets: number;
  epochs: number;
  model: 'resnet18' | 'resnet10' | 'small' | 'tiny';
  inputSize: number;
  batch: number;
  lambdaMax: number;
  beta: number;
  /** 0-based epoch where λ reaches λmax; null = 0.9 x epochs */
  rampUp: number | null;
  lrBackbone: number;
  lrHead: number;
  lrDecay: number;
  augment: { enabled: boolean; preset: 'paper' | 'authors-code'; flip: boolean; jitter: boolean; affine: boolean; erase: boolean };
  balanced: boolean;
  seed: number;
  backend: 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
}

export type PresetName = 'auto' | 'quick' | 'standard';

/** 'auto' (preselected) sends no model, input size, epochs or batch: the trainer picks the backend's recipe. */
export const PRESETS: Record<PresetName, { label: string; form: Partial<TrainForm> }> = {
  auto: { label: 'Backend default', form: {} },
  quick: {
    label: 'Quick (tiny model)',
    form: { model: CPU_RECIPE.model, nets: 3, epochs: CPU_RECIPE.epochs, inputSize: CPU_RECIPE.inputSize, batch: CPU_RECIPE.batch },
  },
  standard: { label: 'Standard (resnet18)', form: { model: 'resnet18', nets: 3, epochs: 20, inputSize: 112, batch: 32 } },
};

export function defaultForm(): TrainForm {
  return {
    nets: 3,
    epochs: CPU_RECIPE.epochs,
    model: CPU_RECIPE.model,
    inputSize: CPU_RECIPE.inputSize,
    batch: CPU_RECIPE.batch,
    lambdaMax: 0.9,
    beta: 4,
    rampUp: null,
    lrBackbone: 1e-3,
    lrHead: 1e-2,
    lrDecay: 0.95,
    augment: { enabled: true, preset: 'paper', flip: true, jitter: true, affine: true, erase: true },
    balanced: false,
    seed: 1,
    backend: 'auto',
  };
}

/** The form as the core's run config (src/trainer/config.ts field names). */
export function formToConfig(f: TrainForm): Record<string, unknown> {
  const a = f.augment;
  return {
    nets: f.nets,
    epochs: f.epochs,
    model: f.model,
    inputSize: f.inputSize,
    batch: f.batch,
    lambdaMax: f.lambdaMax,
    beta: f.beta,
    rampUp: f.rampUp,
    lrBackbone: f.lrBackbone,
    lrHead: f.lrHead,
    lrDecay: f.lrDecay,
    augment: {
      enabled: a.enabled,
      preset: a.preset,
      flip: { p: a.flip ? 0.5 : 0 },
      jitter: { p: a.jitter ? 1 : 0 },
      affine: { p: a.affine ? 0.5 : 0 },
      erase: { p: a.erase ? 0.5 : 0 },
    },
    balanced: f.balanced,
    seed: f.seed,
    backend: f.backend,
  };
}

/** The config train.start sends: with the 'auto' preset the recipe fields are left to the backend. */
export function configToSend(f: TrainForm, preset: PresetName | 'custom'): Record<string, unknown> {
  const config = formToConfig(f);
  if (preset === 'auto') for (const k of RECIPE_FIELDS) delete config[k];
  return config;
}

/** Which recipe the 'auto' preset will get: from the form's backend when it names one, else from the newest auto run. */
export function expectedRecipe(backend: TrainForm['backend'], runs: readonly RunSummary[]): Recipe | null {
  if (backend !== 'auto') return recipeFor(backend, backend === 'webgpu' ? null : undefined);
  const last = runs.find((r) => r.backend && (r.config.backend ?? 'auto') === 'auto');
  return last?.backend ? recipeFor(last.backend, last.device) : null;
}

/** The steps CSV: a header, then one row per stored step. */
export const STEPS_CSV_HEADER = ['step', 'epoch', 'step_in_epoch', 'loss_total', 'loss_sup', 'loss_cons', 'lambda', 'lr', 'images_per_sec'];
export function stepsCsv(steps: readonly StepRecord[]): string {
  return toCsv(
    STEPS_CSV_HEADER,
    steps.map((s) => [s.x, s.epoch, s.step, s.loss.total, s.loss.sup, s.loss.cons, s.lambda, s.lr, s.imagesPerSec]),
  );
}

function toPoint(s: StepRecord): StepPoint {
  return {
    x: s.x,
    epoch: s.epoch,
    total: s.loss.total,
    sup: s.loss.sup,
    cons: s.loss.cons,
    lambda: s.lambda,
    lr: s.lr,
    imagesPerSec: s.imagesPerSec,
  };
}

/** Runs compared at once. */
export const MAX_COMPARE = 8;

export interface LiveJob {
  jobId: string;
  kind: JobKind;
  status: JobInfo['status'];
  runId: number | null;
  progress: Progress | null;
  imagesPerSec: number | null;
  error: string | null;
  /** what the trainer reported that did not stop it (skipped images, a fallback backend); the last few */
  warnings?: string[];
  /** a pretrain-then-finetune job (it ends on the finetune run) */
  chained?: boolean;
}

const MAX_STEPS = 20_000;

export const useTrainingStore = defineStore('training', () => {
  const api = useApi();
  const form = reactive<TrainForm>(defaultForm());
  const preset = ref<PresetName | 'custom'>('auto');
  const runs = ref<RunSummary[]>([]);
  const job = ref<LiveJob | null>(null);
  const error = ref<string | null>(null);
  const selectedRunId = ref<number | null>(null);
  const compareIds = ref<number[]>([]);
  /** The running job's whole-run ETA (shared/progress.ts EtaEstimator), fed by its steps. */
  const eta = ref<EtaReading | null>(null);
  let estimator = new EtaEstimator();
  /** epochs of the running job's run, from its train.run event (the form's when not yet known) */
  let jobEpochs: number | null = null;
  /** Per run: epoch metrics (from runs.metrics, then live train.epoch events). */
  const epochs = shallowRef(new Map<number, EpochMetrics[]>());
  /** Per run: step series seen live in this session. */
  const steps = shallowRef(new Map<number, StepPoint[]>());

  const running = computed(() => !!job.value && (job.value.status === 'running' || job.value.status === 'paused'));
  const selectedRun = computed(() => runs.value.find((r) => r.id === selectedRunId.value) ?? null);
  const selectedEpochs = computed(() => (selectedRunId.value === null ? [] : (epochs.value.get(selectedRunId.value) ?? [])));
  const selectedSteps = computed(() => (selectedRunId.value === null ? [] : (steps.value.get(selectedRunId.value) ?? [])));
  /** What the 'auto' preset will run, in words, or null when the backend is not known yet. */
  const recipe = computed(() => expectedRecipe(form.backend, runs.value));
  const recipeText = computed(() => (recipe.value ? describeRecipe(recipe.value) : null));
  const bestRun = computed(
    () => [...runs.value].filter((r) => r.best).sort((a, b) => (b.best!.overall ?? 0) - (a.best!.overall ?? 0))[0] ?? null,
  );

  /** The recipe values the 'auto' preset last put in the form (shown in Advanced; not sent). */
  let autoValues: Record<string, unknown> = {};
  function applyPreset(name: PresetName): void {
    const r = recipe.value ?? CPU_RECIPE;
    autoValues = { model: r.model, inputSize: r.inputSize, epochs: r.epochs, batch: r.batch };
    Object.assign(form, name === 'auto' ? autoValues : PRESETS[name].form);
    preset.value = name;
  }
  /** An edit in Advanced: the preset becomes custom, unless it left the recipe fields alone (a backend, a seed). */
  function formChanged(): void {
    if (preset.value === 'auto' && RECIPE_FIELDS.every((k) => form[k] === autoValues[k])) return;
    preset.value = 'custom';
  }
  applyPreset('auto');
  // the recipe shown follows the backend once it is known (a run's, or the one picked in Advanced)
  watch(recipe, () => {
    if (preset.value === 'auto') applyPreset('auto');
  });

  /** The run's stored steps, downsampled for the charts, with live steps newer than them kept. */
  async function loadSteps(runId: number): Promise<void> {
    try {
      const page = await api.request('runs.steps', { runId, maxPoints: 2000 });
      const stored = page.steps.map(toPoint);
      const lastX = stored.length ? stored[stored.length - 1]!.x : -Infinity;
      const live = (steps.value.get(runId) ?? []).filter((s) => s.x > lastX);
      steps.value.set(runId, [...stored, ...live]);
      triggerRef(steps);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /** Every stored step of a run (page by page), for a CSV download. */
  async function allSteps(runId: number): Promise<StepRecord[]> {
    const out: StepRecord[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await api.request('runs.steps', { runId, full: true, limit: 50_000, ...(after !== undefined ? { after } : {}) });
      out.push(...page.steps);
      if (page.next === null) return out;
      after = page.next;
    }
  }

  function freshEta(epochs: number | null): void {
    estimator = new EtaEstimator();
    jobEpochs = epochs;
    eta.value = null;
  }

  async function loadRuns(): Promise<void> {
    try {
      // newest first, whatever order the core lists them in
      runs.value = (await api.request('runs.list', {})).sort((a, b) => b.id - a.id);
      if (selectedRunId.value === null && runs.value.length) await selectRun(runs.value[0].id);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function loadMetrics(runId: number): Promise<void> {
    try {
      const m = await api.request('runs.metrics', { runId });
      const live = epochs.value.get(runId) ?? [];
      // keep live epochs that arrived after the fetch was answered
      const merged = [...m.epochs, ...live.filter((e) => !m.epochs.some((x) => x.epoch === e.epoch))].sort((a, b) => a.epoch - b.epoch);
      epochs.value.set(runId, merged);
      triggerRef(epochs);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function selectRun(runId: number): Promise<void> {
    selectedRunId.value = runId;
    await Promise.all([loadMetrics(runId), loadSteps(runId)]);
  }

  async function reattach(): Promise<void> {
    try {
      const jobs = await api.request('jobs.list', {});
      const j = jobs.find((x) => isTrainJob(x.kind) && (x.status === 'running' || x.status === 'paused'));
      if (j) {
        if (job.value?.jobId !== j.jobId) freshEta(Number(runs.value.find((r) => r.id === j.runId)?.config.epochs) || null);
        job.value = {
          jobId: j.jobId,
          kind: j.kind,
          status: j.status,
          runId: j.runId ?? null,
          progress: j.progress,
          imagesPerSec: null,
          error: null,
        };
        if (j.status === 'paused') {
          estimator.pause();
          eta.value = estimator.reading();
        }
      }
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /**
   * Start a job. `chained` pretrain is the core's pretrain-then-finetune (one job, as `concord
   * pretrain`): the core picks the sources and carries the architecture into the finetune.
   */
  async function start(kind: TrainKind, opts: { fromRun?: number; chained?: boolean } = {}): Promise<void> {
    error.value = null;
    const config = configToSend(form, preset.value);
    if (kind === 'finetune') {
      // the architecture comes from the run it continues (as `concord finetune` does)
      delete config.model;
      delete config.inputSize;
    }
    try {
      const chained = kind === 'pretrain' && !!opts.chained;
      freshEta(typeof config.epochs === 'number' ? config.epochs : null);
      const info = chained
        ? await api.request('train.pretrainFinetune', { config })
        : await api.request('train.start', { kind, config, ...(opts.fromRun !== undefined ? { fromRun: opts.fromRun } : {}) });
      job.value = {
        jobId: info.jobId,
        kind: info.kind,
        status: info.status,
        runId: info.runId ?? null,
        progress: info.progress,
        imagesPerSec: null,
        error: null,
        chained,
      };
      if (info.runId) selectedRunId.value = info.runId;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function control(op: 'pause' | 'resume' | 'cancel'): Promise<void> {
    const j = job.value;
    if (!j) return;
    try {
      if (op === 'cancel') await api.request('jobs.cancel', { jobId: j.jobId });
      else {
        const r = await api.request(op === 'pause' ? 'train.pause' : 'train.resume', { jobId: j.jobId });
        if (r.ok) {
          j.status = op === 'pause' ? 'paused' : 'running';
          setPaused(op === 'pause');
        } else error.value = `could not ${op} the job (it may have finished)`;
      }
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function setPaused(paused: boolean): void {
    if (paused) estimator.pause();
    else estimator.resume(Date.now());
    eta.value = estimator.reading();
  }

  function ours(jobId: string): LiveJob | null {
    return job.value && job.value.jobId === jobId ? job.value : null;
  }

  api.on('train.step', (e) => {
    const j = ours(e.jobId);
    if (j) {
      if (j.runId !== e.runId) {
        j.runId = e.runId;
        selectedRunId.value = e.runId;
        void loadRuns();
      }
      j.imagesPerSec = e.imagesPerSec;
      const p = runStepProgress(e.epoch, e.step, e.steps, jobEpochs ?? form.epochs);
      estimator.update(p.done, p.total, Date.now());
      eta.value = estimator.reading();
    }
    // A new array each step, so computeds downstream see a change (the charts thin it anyway).
    let list = [
      ...(steps.value.get(e.runId) ?? []),
      {
        x: e.epoch * e.steps + e.step,
        epoch: e.epoch,
        total: e.loss.total,
        sup: e.loss.sup,
        cons: e.loss.cons,
        lambda: e.lambda,
        lr: e.lr,
        imagesPerSec: e.imagesPerSec,
      },
    ];
    // Long runs: halve the resolution of the oldest half rather than grow without bound.
    if (list.length > MAX_STEPS) list = list.filter((_, i) => i >= MAX_STEPS / 2 || i % 2 === 0);
    steps.value.set(e.runId, list);
    triggerRef(steps);
  });
  api.on('train.run', (e) => {
    const j = ours(e.jobId);
    if (!j) return;
    const epochs = Number(e.config.epochs);
    if (Number.isInteger(epochs) && epochs > 0 && epochs !== jobEpochs) freshEta(epochs);
    if (j.runId === e.runId) return;
    j.runId = e.runId;
    selectedRunId.value = e.runId;
    void loadRuns();
  });
  api.on('train.warning', (e) => {
    const j = ours(e.jobId);
    if (j) j.warnings = [...(j.warnings ?? []), e.message].slice(-5);
  });
  api.on('train.epoch', (e) => {
    const list = epochs.value.get(e.runId) ?? [];
    epochs.value.set(
      e.runId,
      [...list.filter((x) => x.epoch !== e.metrics.epoch), e.metrics].sort((a, b) => a.epoch - b.epoch),
    );
    triggerRef(epochs);
    const j = ours(e.jobId);
    if (j && j.runId === null) {
      j.runId = e.runId;
      selectedRunId.value = e.runId;
    }
    void loadRuns();
  });
  api.on('job.progress', (e) => {
    const j = ours(e.jobId);
    if (j) j.progress = e.progress;
    else if (!job.value && isTrainJob(e.kind))
      job.value = { jobId: e.jobId, kind: e.kind, status: 'running', runId: null, progress: e.progress, imagesPerSec: null, error: null };
  });
  api.on('job.done', (e) => {
    const j = ours(e.jobId);
    if (!j) return;
    const result = (e.result ?? {}) as { status?: string; runId?: number | null };
    j.status = result.status === 'cancelled' ? 'cancelled' : 'done';
    // a pretrain-then-finetune job ends on its finetune run
    if (typeof result.runId === 'number') j.runId = result.runId;
    eta.value = null;
    // the stored steps replace the live ones (those came at most every 250 ms)
    void loadRuns().then(() => (j.runId !== null ? Promise.all([loadMetrics(j.runId), loadSteps(j.runId)]) : undefined));
  });
  api.on('job.error', (e) => {
    const j = ours(e.jobId);
    if (!j) return;
    j.status = /cancel/i.test(e.error) ? 'cancelled' : 'failed';
    j.error = e.error;
    eta.value = null;
    void loadRuns();
  });
  api.on('train.paused', (e) => {
    const j = ours(e.jobId);
    if (!j) return;
    j.status = e.paused ? 'paused' : 'running';
    setPaused(e.paused);
    void loadRuns(); // the run's row says paused too
  });
  api.onReconnect(() => {
    void loadRuns();
    void reattach();
  });

  return {
    form,
    preset,
    runs,
    job,
    error,
    running,
    selectedRunId,
    selectedRun,
    selectedEpochs,
    selectedSteps,
    compareIds,
    epochs,
    steps,
    eta,
    recipe,
    recipeText,
    bestRun,
    applyPreset,
    formChanged,
    loadRuns,
    loadMetrics,
    loadSteps,
    allSteps,
    selectRun,
    reattach,
    start,
    control,
  };
});
