// Desktop build: main (ESM) + trainer process bundle, sandboxed preload (CommonJS), Vue renderer.
import { defineConfig } from 'electron-vite';
import { build as viteBuild, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { rendererResources } from './vite.web.config';

const root = fileURLToPath(new URL('.', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};
// Native and heavy packages stay in node_modules (better-sqlite3, sharp, @tensorflow/*, ...).
const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
const external = [
  'electron',
  /^electron\/.+/,
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  ...deps.map((d) => new RegExp(`^${d.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/.*)?$`)),
];
const MIGRATIONS = join(root, 'src/store/migrations');

/** db.ts finds `migrations/` beside its own (bundled) file: copy them next to each bundle. */
function copyMigrations(outDir: string): void {
  rmSync(join(outDir, 'migrations'), { recursive: true, force: true });
  cpSync(MIGRATIONS, join(outDir, 'migrations'), { recursive: true });
}

/**
 * The trainer runs in its own (utility) process: build src/trainer/entry.ts as a separate bundle
 * at out/trainer/entry.js, so it shares no chunk with main (its db.ts copy must sit beside
 * out/trainer/migrations).
 */
function trainerBundle(): Plugin {
  return {
    name: 'concord:trainer-bundle',
    apply: 'build',
    async closeBundle() {
      copyMigrations(join(root, 'out/main'));
      const entry = join(root, 'src/trainer/entry.ts');
      if (!existsSync(entry)) {
        this.warn('src/trainer/entry.ts not found: out/trainer/entry.js not built');
        return;
      }
      const outDir = join(root, 'out/trainer');
      // data-pool.ts starts `data-worker.js` from beside its own file: keep both under those names.
      const worker = join(root, 'src/trainer/data-worker.ts');
      const input: Record<string, string> = { entry };
      if (existsSync(worker)) input['data-worker'] = worker;
      await viteBuild({
        configFile: false,
        root,
        logLevel: 'warn',
        publicDir: false,
        build: {
          ssr: true,
          outDir,
          emptyOutDir: true,
          target: 'node20',
          minify: false,
          reportCompressedSize: false,
          rollupOptions: {
            input,
            external,
            output: {
              format: 'es',
              entryFileNames: '[name].js',
              chunkFileNames: (c) => (c.name === 'data-pool' ? 'data-pool.js' : '[name]-[hash].js'),
              manualChunks: (id) => (id.replace(/\\/g, '/').endsWith('/src/trainer/data-pool.ts') ? 'data-pool' : undefined),
            },
          },
        },
      });
      copyMigrations(outDir);
    },
  };
}

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rollupOptions: {
        // face-worker: the video import's face detection runs in a worker thread, started from
        // out/main/face-worker.js (crop-in-worker.ts looks for it beside its own chunk)
        input: { index: join(root, 'src/main/index.ts'), 'face-worker': join(root, 'src/main/core/ingest/faces/crop-worker.ts') },
        external,
        // chunks beside index.js, so a lazily loaded db.ts still finds out/main/migrations
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
    plugins: [trainerBundle()],
  },
  preload: {
    build: {
      // A sandboxed preload is CommonJS with everything inlined (only `electron` is external).
      externalizeDeps: false,
      rollupOptions: {
        input: { index: join(root, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: join(root, 'src/renderer'),
    // resources/icon.svg beside index.html (the favicon link), as in the web build
    plugins: [vue(), rendererResources()],
    build: {
      minify: true,
      rollupOptions: { input: join(root, 'src/renderer/index.html') },
    },
  },
});
