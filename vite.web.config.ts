// The renderer built for the headless host (`concord serve`): plain static files in out/web.
import { defineConfig, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Files from resources/ that the renderer uses, by their name beside index.html. */
export const RENDERER_RESOURCES = ['icon.svg'] as const;

/**
 * Puts resources/icon.svg beside index.html (which links it as the favicon): emitted into the build
 * and served by the dev server. Only the listed files: resources/ also holds things the renderer
 * must not ship (pretrained weights, demo assets). Shared by this config and electron.vite.config.ts.
 */
export function rendererResources(): Plugin {
  const file = (name: string) => `${here}resources/${name}`;
  return {
    name: 'concord:renderer-resources',
    configureServer(server) {
      for (const name of RENDERER_RESOURCES) {
        server.middlewares.use(`/${name}`, (_req, res) => {
          res.setHeader('Content-Type', name.endsWith('.svg') ? 'image/svg+xml' : 'application/octet-stream');
          res.end(readFileSync(file(name)));
        });
      }
    },
    generateBundle() {
      for (const name of RENDERER_RESOURCES) {
        this.emitFile({ type: 'asset', fileName: name, source: readFileSync(file(name)) });
      }
    },
  };
}

export default defineConfig({
  root: `${here}src/renderer`,
  base: './',
  plugins: [vue(), rendererResources()],
  build: {
    outDir: `${here}out/web`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  logLevel: 'warn',
});
