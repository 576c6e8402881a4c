#!/usr/bin/env node
// `npm test` step: the layout rules of STYLE.md that the compiler does not check. Walks every .ts,
// .vue and .mjs file under src/, reads its import specifiers with regular expressions, and fails
// (exit 1) listing:
//   (a) import cycles, each printed as a path a -> b -> a. Only runtime edges count: `import type`,
//       `export type ... from`, imports whose every name is `type X`, and dynamic `import()` (loaded
//       lazily, the usual way to break a load-time cycle) are ignored for cycles.
//   (b) a file under src/trainer or src/store importing from src/main (any import, types included:
//       the trainer process and the store must not depend on the host).
//   (c) a file under src/shared importing anything but src/shared itself and the pure packages in
//       SHARED_PACKAGES: no node: or Node built-ins, no electron, no DOM-only modules (vue, pinia),
//       no other package, no file outside src/shared (types included).
//   (d) a source file over MAX_LINES lines. Exempt: generated files, recognised by `@generated` in
//       their first 10 lines (none at present).
// Regex parsing, not a compiler: only import/export statements that start a line are read, and
// lines that start as comments are skipped. Usage: node scripts/check-structure.mjs [root]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

// The project root; another root may be given as the first argument (to try the rules on a fixture).
const ROOT = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const SRC = join(ROOT, 'src');
const EXTS = ['.ts', '.vue', '.mjs'];
const MAX_LINES = 500;
/** Packages src/shared may import: pure, and run the same in Node, Electron and the browser. */
const SHARED_PACKAGES = ['zod'];
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]]));

const rel = (p) => relative(ROOT, p).split(sep).join('/');
const under = (p, dir) => rel(p).startsWith(dir + '/');

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (EXTS.some((e) => entry.name.endsWith(e))) out.push(p);
  }
  return out;
}

// `import ... from 'x'`, `export ... from 'x'` (over several lines), `import 'x'`, `import('x')`.
// The clause holds names, braces, commas and `*` only, so text like "copied from 'x'" is not read.
const STATIC_RE = /^[ \t]*(import|export)\s+([\w\s{},*$]*?)\s*from\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT_RE = /^[ \t]*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC_RE = /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** True when an import clause brings in types only (`type {..}`, `type X`, or `{ type A, type B }`). */
function typeOnly(clause) {
  const c = clause.trim();
  if (/^type\s/.test(c)) return true;
  const named = /^\{([\s\S]*)\}$/.exec(c);
  if (!named) return false;
  const names = named[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((n) => /^type\s/.test(n));
}

function lineOf(text, index) {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Blanks out lines that start as comments (keeping offsets, so line numbers stay right). */
function dropCommentLines(text) {
  return text.replace(/^[ \t]*(\/\/|\/\*|\*).*$/gm, (m) => ' '.repeat(m.length));
}

function parseImports(text) {
  const code = dropCommentLines(text);
  const found = [];
  for (const m of code.matchAll(STATIC_RE)) {
    found.push({ spec: m[3], line: lineOf(code, m.index), kind: typeOnly(m[2]) ? 'type' : 'static' });
  }
  for (const m of code.matchAll(SIDE_EFFECT_RE)) found.push({ spec: m[1], line: lineOf(code, m.index), kind: 'static' });
  for (const m of code.matchAll(DYNAMIC_RE)) found.push({ spec: m[1], line: lineOf(code, m.index), kind: 'dynamic' });
  return found;
}

const isFile = (p) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** A relative specifier → the file it names (as written, or + .ts/.vue/.mjs, /index.ts; `x.js` may mean x.ts), or null. */
function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec.replace(/\?.*$/, '')); // './x.css?inline' names x.css
  const candidates = [base, base + '.ts', base + '.vue', base + '.mjs', join(base, 'index.ts')];
  if (/\.(m?js)$/.test(base)) candidates.push(base.replace(/\.(m?js)$/, '.ts'));
  return candidates.find(isFile) ?? null;
}

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

// ---------------------------------------------------------------------------------------------

const started = performance.now();
const files = walk(SRC).sort();
const graph = new Map(); // file -> Set of files it imports at load time (for cycles)
const problems = { cycles: [], mainFromTrainerOrStore: [], sharedImports: [], unresolved: [], long: [] };

for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  const generated = /@generated/.test(text.split('\n', 10).join('\n'));
  if (lines > MAX_LINES && !generated) problems.long.push(`${rel(file)}: ${lines} lines (max ${MAX_LINES})`);

  const edges = new Set();
  graph.set(file, edges);
  for (const imp of parseImports(text)) {
    const where = `${rel(file)}:${imp.line}`;
    const shown = `'${imp.spec}'${imp.kind === 'static' ? '' : ` (${imp.kind} import)`}`;
    const isRelative = imp.spec.startsWith('./') || imp.spec.startsWith('../');
    const target = isRelative ? resolveRelative(file, imp.spec) : null;
    if (isRelative && !target) {
      problems.unresolved.push(`${where} imports ${shown}: no such file`);
      continue;
    }
    if (target && imp.kind === 'static') edges.add(target);

    if ((under(file, 'src/trainer') || under(file, 'src/store')) && target && under(target, 'src/main')) {
      problems.mainFromTrainerOrStore.push(`${where} imports ${shown}: ${rel(target)}`);
    }
    if (under(file, 'src/shared')) {
      let why = null;
      if (target) {
        if (!under(target, 'src/shared')) why = `${rel(target)} is outside src/shared`;
      } else if (imp.spec.startsWith('node:') || BUILTINS.has(packageName(imp.spec))) {
        why = 'a Node built-in';
      } else if (packageName(imp.spec) === 'electron') {
        why = 'Electron';
      } else if (['vue', 'pinia', 'vue-router'].includes(packageName(imp.spec)) || imp.spec.startsWith('@vue/')) {
        why = 'a DOM-only module';
      } else if (!SHARED_PACKAGES.includes(packageName(imp.spec))) {
        why = `not a shared package (allowed: ${SHARED_PACKAGES.join(', ')})`;
      } else if (imp.spec.startsWith('/')) {
        why = 'an absolute path';
      }
      if (why) problems.sharedImports.push(`${where} imports ${shown}: ${why}`);
    }
  }
}

// Cycles: strongly connected components (Tarjan), then cycles through them until every edge
// inside a component lies on a printed cycle.
function components() {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || graph.get(v)?.has(v)) out.push(new Set(comp));
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Shortest path from `from` to `to` inside `comp` (breadth first), as a list of files. */
function shortestPath(comp, from, to) {
  const prev = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift();
    if (v === to) break;
    for (const w of graph.get(v) ?? []) {
      if (comp.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  const path = [];
  for (let v = to; v !== null; v = prev.get(v)) path.unshift(v);
  return path;
}

for (const comp of components()) {
  const covered = new Set();
  const members = [...comp].sort();
  for (const u of members) {
    for (const v of [...graph.get(u)].filter((w) => comp.has(w)).sort()) {
      if (covered.has(`${u}\0${v}`)) continue;
      const cycle = u === v ? [u] : [u, ...shortestPath(comp, v, u).slice(0, -1)];
      for (let i = 0; i < cycle.length; i++) covered.add(`${cycle[i]}\0${cycle[(i + 1) % cycle.length]}`);
      problems.cycles.push([...cycle, u].map(rel).join(' -> '));
    }
  }
}

const sections = [
  ['import cycles (runtime imports; `import type` and dynamic import() ignored)', problems.cycles],
  ['src/trainer or src/store importing src/main', problems.mainFromTrainerOrStore],
  ['src/shared importing outside src/shared (node:, electron, DOM-only or other modules)', problems.sharedImports],
  ['relative imports that resolve to no file', problems.unresolved],
  [`source files over ${MAX_LINES} lines`, problems.long],
];
const total = sections.reduce((n, [, list]) => n + list.length, 0);
const ms = Math.round(performance.now() - started);
if (total === 0) {
  process.stdout.write(`check-structure: ${files.length} files under src/, no problems (${ms} ms)\n`);
} else {
  let report = `check-structure: ${total} problem(s) in ${files.length} files under src/ (${ms} ms)\n`;
  for (const [title, list] of sections) {
    if (list.length) report += `\n${title}:\n${list.map((l) => `  ${l}\n`).join('')}`;
  }
  process.stderr.write(report);
  process.exitCode = 1;
}
