// Starts a worker_threads Worker from a module beside the caller: the built .js beside the caller's
// bundle, or under tsx/vitest the .ts source loaded through a small bootstrap that registers tsx in
// the worker first (--import does not reach workers). Used by the data pool and the face-crop worker.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function startModuleWorker(callerUrl: string, files: { source: string; built: string }, what: string): Worker {
  const here = fileURLToPath(callerUrl);
  if (here.endsWith('.ts')) {
    const source = pathToFileURL(join(dirname(here), files.source)).href;
    // The ESM build of tsx's API (require.resolve would give the CommonJS one).
    const tsxDir = dirname(createRequire(callerUrl).resolve('tsx/package.json'));
    const api = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); })`;
    return new Worker(boot, { eval: true });
  }
  const built = join(dirname(here), files.built);
  if (!existsSync(built)) throw new Error(`${what} script ${built} is missing from the build`);
  return new Worker(built);
}
