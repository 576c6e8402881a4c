// The run configuration of a CCT training: one zod schema, defaults from the paper (Section 3 and
// REFERENCE.md), every departure from it an option. The resolved config is stored with the run.
import { z } from 'zod';
import { AUTHORS_CODE_AUGMENT, DEFAULT_AUGMENT, resolveAugmentConfig, type AugmentConfig } from './augment';

export const MODEL_PRESETS = ['resnet18', 'resnet10', 'small', 'tiny'] as const;
export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

const prob = z.number().min(0).max(1);
const range = z.tuple([z.number(), z.number()]);

/** Overrides of augment.ts's DEFAULT_AUGMENT (the paper's pipeline); unset fields keep it. */
export const AugmentSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** 'paper': jitter always, affine at p 0.5; 'authors-code': jitter + affine together at p 0.5. */
    preset: z.enum(['paper', 'authors-code']).default('paper'),
    flip: z.object({ p: prob }).partial().strict().optional(),
    jitter: z
      .object({
        p: prob,
        brightness: z.number().min(0),
        contrast: z.number().min(0),
        saturation: z.number().min(0),
        hue: z.number().min(0).max(0.5),
      })
      .partial()
      .strict()
      .optional(),
    affine: z
      .object({ p: prob, translate: prob, scale: range, interpolation: z.enum(['nearest', 'bilinear']), fill: z.number() })
      .partial()
      .strict()
      .optional(),
    erase: z
      .object({ p: prob, scale: range, ratio: range, value: z.union([z.number(), z.literal('random')]) })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    /** N networks trained together (paper 3; its ablation 1-4). N = 1 is plain cross-entropy. */
    nets: z.number().int().min(1).max(8).default(3),
    epochs: z.number().int().min(1).max(10_000).default(20),
    model: z.enum(MODEL_PRESETS).default('resnet18'),
    /** Square input side; Aff-Wild2 crops are 112 (the paper resizes to 224). */
    inputSize: z.number().int().min(16).max(512).default(112),
    /**
     * Paper 256, authors' code 128. 16 so that the default fits the wasm backend's 4 GB heap at any
     * input size: 3 x ResNet-18 at 224 px with batch 32 hangs there (measured), while at 112 px
     * batch 32 fits and trains ~12 % faster than 16 (bench/train-step.ts: 3.7 vs 3.3 img/s).
     */
    batch: z.number().int().min(2).max(4096).default(16),
    /** 7 (ABAW-7), 8 (ABAW-8, with Other) or 'auto': 8 when the project holds ABAW-8 labels. */
    classes: z.union([z.literal(7), z.literal(8), z.literal('auto')]).default('auto'),

    lambdaMax: prob.default(0.9),
    /** Paper 4.0 (best in its Table 7); the authors' code defaults to 0.65. */
    beta: z.number().min(0).default(4.0),
    /**
     * e_r, the 0-based epoch where λ reaches λ_max. The paper gives no value; null uses the authors'
     * code's 0.9 x epochs.
     */
    rampUp: z.number().positive().nullable().default(null),
    rampUpFraction: z.number().positive().max(10).default(0.9),
    /** λ once per epoch (paper Algorithm 1, authors' code) or per iteration with fractional e. */
    lambdaUpdate: z.enum(['epoch', 'iteration']).default('epoch'),
    /** Hold λ at λ_max after e_r (REFERENCE default); false reproduces the code's falling λ. */
    clampAfterRampUp: z.boolean().default(true),
    /** Scale both loss sums by 1/N as the authors' code does (0.33); the paper does not. */
    scaleByN: z.boolean().default(false),

    lrBackbone: z.number().positive().default(1e-3),
    lrHead: z.number().positive().default(1e-2),
    /** lr x lrDecay every epoch. */
    lrDecay: z.number().positive().max(1).default(0.95),

    augment: AugmentSchema.default({ enabled: true, preset: 'paper' }),
    /** Class-balanced sampling (with replacement, weight 1/class count). The paper found oversampling hurt. */
    balanced: z.boolean().default(false),
    seed: z.number().int().default(1),
    backend: z.enum(BACKENDS).default('auto'),
    /**
     * Where a train run's networks start: 'auto' from the weights Concord ships for this model and
     * input size when there are some (resources/pretrained, trainer/shipped.ts), else random;
     * 'none' always from random weights. finetune/crossfit start from their --from instead.
     */
    pretrained: z.enum(['auto', 'none']).default('auto'),

    /** Splits validated on; their labelled frames never train. */
    valSplits: z.array(z.string()).default(['Validation_Set']),
    /** Splits trained on; null = every split not in valSplits. */
    trainSplits: z.array(z.string()).nullable().default(null),
    /** When no frame is in valSplits: this share of the training videos (whole videos) validates. */
    valFraction: z.number().min(0).max(0.9).default(0.2),
    splitSeed: z.number().int().default(1),
    /**
     * crossfit: what a fold holds out. 'video': whole video groups (the fold never saw the person);
     * 'stretch': runs of one given label within each video, dealt to folds so every fold sees every
     * person (a mislabelled stretch is held out whole, its neighbours with other labels train);
     * images of an image list are dealt one by one either way, or each named subject's together.
     */
    foldBy: z.enum(['video', 'stretch']).default('video'),
    /** Videos' sources to use (abaw, video, rafdb, affectnet, csv); null = all. */
    sources: z.array(z.string()).nullable().default(null),
    /** Train on the reviewed labels ('current') or on the file's ('original'). */
    labelSource: z.enum(['current', 'original']).default('current'),
    /** Use every k-th frame of a video for training (neighbouring frames are near duplicates). */
    frameStride: z.number().int().min(1).default(1),
    /** Training samples per epoch; null = every training frame once. */
    epochSize: z.number().int().min(1).nullable().default(null),

    /** Predictions (infer, a cross-fit's held-out folds) average each crop with its mirror image. */
    predictFlip: z.boolean().default(false),
    evalBatch: z.number().int().min(1).max(4096).default(64),
    /** Batches decoded ahead of the one training. */
    prefetch: z.number().int().min(0).max(16).default(2),
    /** Worker threads that decode + augment (0: on the training thread; sharp decodes off-thread anyway). */
    dataWorkers: z.number().int().min(0).max(16).default(0),
  })
  .strict();

/**
 * The recipe a run gets for the fields its config leaves out, by the backend that will run it:
 * the paper's ResNet-18 at 112 px on a GPU; on CPU backends (wasm, cpu, tfjs-node, a software
 * WebGPU adapter) a tiny network at 48 px for 10 epochs (the UI's "Quick" preset), which starts from
 * the weights Concord ships for it (trainer/shipped.ts) and finishes the demo in minutes. 10 rather
 * than 3: on the default path's demo data (bench/default-path.ts, seed 2, pair-flip 30 %) recall at
 * the default rule went 0.82 -> 0.85 from 6 to 10 epochs at the same precision, symmetric unchanged;
 * the whole path takes about 2.5 min on 2 cores.
 */
export function defaultRecipe(backend: { name: string; adapter?: { software?: boolean } }): {
  model: (typeof MODEL_PRESETS)[number];
  inputSize: number;
  epochs: number;
  batch: number;
} {
  const gpu = backend.name === 'tensorflow-gpu' || (backend.name === 'webgpu' && !backend.adapter?.software);
  return gpu ? { model: 'resnet18', inputSize: 112, epochs: 20, batch: 32 } : { model: 'tiny', inputSize: 48, epochs: 10, batch: 16 };
}

export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
export type TrainConfig = z.output<typeof TrainConfigSchema>;

/** Parses a (partial) config, naming every bad field; `source` names the file or flag it came from. */
export function parseTrainConfig(input: unknown, source = 'config'): TrainConfig {
  const r = TrainConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: ${msg}`);
  }
  const cfg = r.data;
  if (cfg.rampUp === null) cfg.rampUp = cfg.rampUpFraction * cfg.epochs;
  resolvedAugment(cfg); // surfaces augment range errors now, not at the first batch
  return cfg;
}

/** The augmentation pipeline of a config, or null when disabled. */
export function resolvedAugment(cfg: TrainConfig): AugmentConfig | null {
  const a = cfg.augment;
  if (!a.enabled) return null;
  const base = a.preset === 'authors-code' ? AUTHORS_CODE_AUGMENT : DEFAULT_AUGMENT;
  return resolveAugmentConfig({ flip: a.flip, jitter: a.jitter, affine: a.affine, erase: a.erase }, base);
}

/** e_r of a parsed config (never null after parseTrainConfig). */
export function rampUpOf(cfg: TrainConfig): number {
  return cfg.rampUp ?? cfg.rampUpFraction * cfg.epochs;
}

/** Merges a later override (CLI flags over a --config file over defaults), shallowly except `augment`. */
export function mergeConfigInput(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    if (k === 'augment' && typeof v === 'object' && v && typeof base.augment === 'object' && base.augment) {
      out.augment = { ...(base.augment as object), ...(v as object) };
    } else out[k] = v;
  }
  return out;
}
