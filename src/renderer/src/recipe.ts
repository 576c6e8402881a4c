// The recipe a run gets when the form leaves model, input size, epochs and batch to the backend
// (src/trainer/config.ts defaultRecipe; test/unit/renderer/recipe.test.ts keeps the two in step).

export interface Recipe {
  model: 'resnet18' | 'resnet10' | 'small' | 'tiny';
  inputSize: number;
  epochs: number;
  batch: number;
  gpu: boolean;
}

export const GPU_RECIPE: Recipe = { model: 'resnet18', inputSize: 112, epochs: 20, batch: 32, gpu: true };
export const CPU_RECIPE: Recipe = { model: 'tiny', inputSize: 48, epochs: 10, batch: 16, gpu: false };

/** Backends that get the GPU recipe (webgpu only on a hardware adapter, which a recorded run's device names). */
export function isGpuBackend(backend: string, device?: string | null): boolean {
  if (backend === 'tensorflow-gpu') return true;
  return backend === 'webgpu' && !/software|llvmpipe|lavapipe|swiftshader/i.test(device ?? '');
}

export function recipeFor(backend: string, device?: string | null): Recipe {
  return isGpuBackend(backend, device) ? GPU_RECIPE : CPU_RECIPE;
}

const MODEL_NAMES: Record<Recipe['model'], string> = { resnet18: 'ResNet-18', resnet10: 'ResNet-10', small: 'small', tiny: 'tiny' };

/** "ResNet-18 at 112 px, 20 epochs (GPU)" / "tiny at 48 px, 10 epochs, from the shipped pretrained weights (CPU)". */
export function describeRecipe(r: Recipe): string {
  const base = `${MODEL_NAMES[r.model]} at ${r.inputSize} px, ${r.epochs} epochs`;
  return r.gpu ? `${base} (GPU)` : `${base}, from the shipped pretrained weights (CPU)`;
}

/** The recipe fields the form leaves to the backend when the "Backend default" preset is picked. */
export const RECIPE_FIELDS = ['model', 'inputSize', 'epochs', 'batch'] as const;
