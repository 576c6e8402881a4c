// The command line hosts: `concord serve` and `concord start` (which falls back to the browser host
// where the Electron binary is missing), run as real processes.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { electronStatus } from '../../src/main/cli/doctor';
import { tempDir } from '../helpers/tmp';

const running: ChildProcess[] = [];

function concord(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['bin/concord.mjs', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  let found = false;
  const url = new Promise<string>((ok, fail) => {
    const t = setInterval(() => {
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})/.exec(out);
      if (m) {
        clearInterval(t);
        found = true;
        ok(m[1]);
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(t);
      if (!found) fail(new Error(`concord ${args.join(' ')} exited with ${code} before printing a URL\n${out}\n${err}`));
    });
  });
  url.catch(() => {}); // a test that expects an early exit never awaits the URL
  return { child, url, exited, output: () => out, errors: () => err };
}

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('concord serve', () => {
  it('prints a tokened loopback URL, serves the app, and stops cleanly on Ctrl-C', async () => {
    const project = join(tempDir(), 'project');
    const run = concord(['serve', project, '--port', '0']);
    const url = await run.url;
    const base = url.split('?')[0];
    expect((await fetch(base)).status).toBe(401);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    const info = await fetch(`${base}api/project.info`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${url.split('token=')[1]}` },
      body: '{}',
    });
    expect((await info.json()).result.frames).toBe(0);
    expect(run.output()).toContain(`new project at ${project}`);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  });

  it('will not listen on a public address without --allow-remote', async () => {
    const run = concord(['serve', join(tempDir(), 'p'), '--host', '0.0.0.0']);
    expect(await run.exited).toBe(2);
    expect(run.errors()).toMatch(/--allow-remote/);
  });
});

const electron = await electronStatus();

describe('concord start', () => {
  it.skipIf(electron.ok)(
    `falls back to the browser host on a demo project, saying why${electron.ok ? ' (skipped: this machine has the Electron binary)' : ''}`,
    async () => {
      const home = tempDir();
      const run = concord(['start'], { HOME: home });
      const url = await run.url;
      expect(run.output()).toMatch(/desktop app is not available here/);
      expect(run.output()).toMatch(/fetched on first launch/);
      expect(run.output()).toContain(join(home, '.concord', 'demo', 'project'));
      const info = await fetch(`${url.split('?')[0]}api/project.info`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${url.split('token=')[1]}` },
        body: '{}',
      });
      expect((await info.json()).result.frames).toBeGreaterThan(500);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    },
  );
});
