// The starting weights Concord ships for its small presets (resources/pretrained/<model>-<input>.*,
// made by scripts/make-pretrained.ts on demo people who are in no demo project). A `train` run
// with init 'auto' starts from them when they exist for its model and input size: CCT from random
// weights collapses on small data (the paper always finetunes pretrained backbones).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ShippedWeights {
  file: string;
  /** what scripts/make-pretrained.ts wrote beside it */
  manifest: { model: string; inputSize: number; classes: number; sha256?: string; command?: string };
}

/** resources/pretrained beside the source tree (src/trainer) or the build (out/trainer); CONCORD_PRETRAINED_DIR overrides. */
export function pretrainedDir(): string {
  return process.env.CONCORD_PRETRAINED_DIR ?? fileURLToPath(new URL('../../resources/pretrained', import.meta.url));
}

/** The shipped weights for a model at an input size, or null when none ship (or CONCORD_PRETRAINED_DIR is empty). */
export function shippedWeights(model: string, inputSize: number, dir = pretrainedDir()): ShippedWeights | null {
  if (!dir) return null;
  const base = join(dir, `${model}-${inputSize}`);
  if (!existsSync(`${base}.safetensors`) || !existsSync(`${base}.json`)) return null;
  const manifest = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as ShippedWeights['manifest'];
  if (manifest.model !== model || manifest.inputSize !== inputSize) return null;
  return { file: `${base}.safetensors`, manifest };
}
