#!/usr/bin/env node
// `npm test`: type-check, layout rules (scripts/check-structure.mjs), lint, unit tests (vitest), then the
// end-to-end specs in Chromium.
import { spawnSync } from 'node:child_process';

const steps = [
  ['type-check', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['structure (cycles, layer imports, file length)', process.execPath, ['scripts/check-structure.mjs']],
  ['lint (errors only fail)', 'npx', ['eslint', '--quiet', '.']],
  ['unit tests', 'npx', ['vitest', 'run']],
];
if (process.argv.includes('--e2e') || !process.argv.includes('--unit')) {
  steps.push(['end-to-end', process.execPath, ['scripts/e2e.mjs']]);
}
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`\n${name} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}
