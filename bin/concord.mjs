#!/usr/bin/env node
// The `concord` command: runs the TypeScript CLI through tsx, so it works right after `npm ci`.
import { register } from 'tsx/esm/api';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

// Only `electron-vite dev` may point the desktop app at a dev server; never an inherited variable
// (`concord start` spawns Electron with this environment).
delete process.env.ELECTRON_RENDERER_URL;
delete process.env.NODE_ENV_ELECTRON_VITE;

register();
const here = dirname(fileURLToPath(import.meta.url));
const { main } = await import(pathToFileURL(join(here, '..', 'src', 'main', 'cli.ts')).href);
process.exitCode = await main(process.argv.slice(2));
