#!/usr/bin/env node
// End-to-end specs: run when they exist (test/e2e/*.spec.ts).
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const specs = existsSync('test/e2e') ? readdirSync('test/e2e').filter((f) => f.endsWith('.spec.ts')) : [];
if (!specs.length) {
  console.log('no end-to-end specs yet');
  process.exit(0);
}
const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.e2e.config.ts'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
