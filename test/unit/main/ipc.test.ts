import { describe, expect, it } from 'vitest';
import type { IpcMain } from 'electron';
import { bindIpc, forwardEvents } from '../../../src/main/ipc';
import { IPC, APP_ORIGIN } from '../../../src/shared/contract';
import { parseRequest, type ConcordCore, type RequestName } from '../../../src/shared/api';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  const ipc = {
    handle: (ch: string, fn: Handler) => handlers.set(ch, fn),
    removeHandler: (ch: string) => handlers.delete(ch),
  } as unknown as IpcMain;
  return { ipc, handlers };
}

function fakeCore() {
  const calls: { name: string; payload: unknown }[] = [];
  const listeners = new Map<string, Set<(d: unknown) => void>>();
  const core: ConcordCore = {
    async request(name: RequestName, payload: unknown) {
      parseRequest(name, payload);
      calls.push({ name, payload });
      return { ok: true } as never;
    },
    on(event, cb) {
      const s = listeners.get(event) ?? new Set();
      s.add(cb as (d: unknown) => void);
      listeners.set(event, s);
      return () => s.delete(cb as (d: unknown) => void);
    },
    framePath: () => null,
    close: async () => {},
  };
  return { core, calls, listeners };
}

const ours = { senderFrame: { url: `${APP_ORIGIN}/index.html`, parent: null } };

describe('ipc choke point', () => {
  it('runs a request from our app page, validated against the contract', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const { core, calls } = fakeCore();
    bindIpc(ipc, { core: () => core, desktop: {} as never });
    const r = await handlers.get(IPC.request)!(ours, 'review.counts', {});
    expect(r).toEqual({ ok: true, value: { ok: true } });
    expect(calls).toEqual([{ name: 'review.counts', payload: {} }]);
  });

  it('hands the payload to the core as sent: the core parses it, once', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const { core, calls } = fakeCore();
    bindIpc(ipc, { core: () => core, desktop: {} as never });
    await handlers.get(IPC.request)!(ours, 'review.queue', { filter: {} });
    // the schema's defaults (limit: 100) are not filled in here
    expect(calls).toEqual([{ name: 'review.queue', payload: { filter: {} } }]);
  });

  it('refuses senders that are not our top frame: other origins, file://, subframes, no frame', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const { core, calls } = fakeCore();
    const log: string[] = [];
    bindIpc(ipc, { core: () => core, desktop: {} as never, log: (l) => log.push(l) });
    for (const frame of [
      { url: 'https://evil.example/', parent: null },
      { url: 'file:///tmp/x.html', parent: null },
      { url: 'concord://evil/index.html', parent: null },
      { url: `${APP_ORIGIN}/index.html`, parent: { url: 'x' } },
      { url: 'http://localhost:5173/', parent: null }, // dev server, but no dev URL configured
      null,
    ]) {
      const r = (await handlers.get(IPC.request)!({ senderFrame: frame }, 'project.info', {})) as { ok: boolean; error: string };
      expect(r.ok, JSON.stringify(frame)).toBe(false);
      expect(r.error).toMatch(/refused/);
    }
    expect(calls).toHaveLength(0);
    expect(log.length).toBe(6);
  });

  it('accepts the dev server only when electron-vite gave its URL', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const { core } = fakeCore();
    bindIpc(ipc, { core: () => core, desktop: {} as never, devUrl: 'http://localhost:5173' });
    const r = (await handlers.get(IPC.request)!(
      { senderFrame: { url: 'http://localhost:5173/#/review', parent: null } },
      'project.info',
      {},
    )) as { ok: boolean };
    expect(r.ok).toBe(true);
  });

  it('answers a schema failure or an unknown request with an error, not a throw', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const { core, calls } = fakeCore();
    bindIpc(ipc, { core: () => core, desktop: {} as never });
    const bad = (await handlers.get(IPC.request)!(ours, 'review.decide', { frameIds: [], action: 'accept' })) as {
      ok: boolean;
      error: string;
    };
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/bad review.decide request/) });
    const unknown = (await handlers.get(IPC.request)!(ours, 'fs.readFile', { path: '/etc/passwd' })) as { ok: boolean; error: string };
    expect(unknown).toEqual({ ok: false, error: 'unknown request fs.readFile' });
    expect(calls).toHaveLength(0);
  });

  it('says so when no project is open', async () => {
    const { ipc, handlers } = fakeIpcMain();
    bindIpc(ipc, { core: () => null, desktop: {} as never });
    const r = (await handlers.get(IPC.request)!(ours, 'project.info', {})) as { ok: boolean; error: string };
    expect(r.error).toMatch(/no project is open/);
  });

  it('validates desktop calls', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const opened: string[] = [];
    bindIpc(ipc, {
      core: () => null,
      desktop: {
        currentProject: () => '/p',
        recentProjects: () => [],
        chooseProject: async () => null,
        openProject: async (p: string) => (opened.push(p), p),
        pickPath: async () => null,
      },
    });
    const call = handlers.get(IPC.desktop)!;
    expect(await call(ours, { op: 'currentProject' })).toEqual({ ok: true, value: '/p' });
    expect(await call(ours, { op: 'openProject', path: '/data/p' })).toEqual({ ok: true, value: '/data/p' });
    expect(await call(ours, { op: 'openProject', path: 42 })).toMatchObject({ ok: false });
    expect(await call(ours, { op: 'exec', cmd: 'rm -rf /' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/bad desktop call/),
    });
    expect(await call({ senderFrame: { url: 'https://evil.example/', parent: null } }, { op: 'openProject', path: '/x' })).toMatchObject({
      ok: false,
    });
    expect(opened).toEqual(['/data/p']);
  });

  it('forwards every contract event and unsubscribes', () => {
    const { core, listeners } = fakeCore();
    const sent: [string, unknown][] = [];
    const off = forwardEvents(core, (e, d) => sent.push([e, d]));
    expect([...listeners.keys()].sort()).toEqual([
      'job.done',
      'job.error',
      'job.progress',
      'review.changed',
      'train.epoch',
      'train.paused',
      'train.run',
      'train.step',
      'train.warning',
    ]);
    for (const cb of listeners.get('review.changed')!) cb({ frameIds: [1] });
    expect(sent).toEqual([['review.changed', { frameIds: [1] }]]);
    off();
    expect([...listeners.values()].every((s) => s.size === 0)).toBe(true);
  });
});
