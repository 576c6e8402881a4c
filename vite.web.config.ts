// The renderer built for the headless host (`concord serve`): plain static files in out/web.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: `${here}src/renderer`,
  base: './',
  plugins: [vue()],
  build: {
    outDir: `${here}out/web`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  logLevel: 'warn',
});
