import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { parseRequest, type ConcordCore, type EventName, type Events, type RequestName } from '../../../src/shared/api';
import { isLoopbackAddress, resolveStatic, startServer, tokenMatches, type RunningServer } from '../../../src/main/server/http';
import { BusyError, NotFoundError } from '../../../src/shared/errors';
import { tempDir, FAKE_JPEG } from '../../helpers/tmp';

/** A small stand-in for the real core: records calls, validates like the real one, emits on demand. */
function fakeCore(frameFile: string, textFile = frameFile) {
  const listeners = new Map<string, Set<(d: unknown) => void>>();
  const calls: { name: string; payload: unknown }[] = [];
  const framePathCalls: unknown[] = [];
  const core: ConcordCore & { emit<E extends EventName>(e: E, d: Events[E]): void } = {
    async request(name: RequestName, payload: unknown) {
      calls.push({ name, payload });
      parseRequest(name, payload);
      if (name === 'project.info') return { project: '/p', videos: 2 } as never;
      if (name === 'jobs.cancel') throw new Error('no such job');
      if (name === 'runs.metrics') throw new NotFoundError('run 99 does not exist');
      if (name === 'review.decide' && (payload as { frameIds?: number[] }).frameIds?.[0] === 503) throw new BusyError();
      return {} as never;
    },
    on(event, cb) {
      const set = listeners.get(event) ?? new Set();
      set.add(cb as (d: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(cb as (d: unknown) => void);
    },
    framePath(frameId: number) {
      framePathCalls.push(frameId);
      return frameId === 7 ? frameFile : frameId === 9 ? textFile : null;
    },
    async close() {},
    emit(event, data) {
      for (const cb of listeners.get(event) ?? []) cb(data);
    },
  };
  return { core, calls, framePathCalls };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP, so paths like `/../x` reach the server unnormalised. */
function raw(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    if (init.body) req.write(init.body);
    req.end();
  });
}

function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket): Promise<any> {
  return new Promise((ok) => ws.once('message', (d) => ok(JSON.parse(d.toString()))));
}

describe('headless host', () => {
  let dir: string;
  let staticDir: string;
  let server: RunningServer;
  let fake: ReturnType<typeof fakeCore>;
  const auth = () => ({ Authorization: `Bearer ${server.token}` });

  beforeAll(async () => {
    dir = tempDir();
    staticDir = join(dir, 'web');
    mkdirSync(join(staticDir, 'assets'), { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Concord</title>');
    writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'outside the static dir');
    symlinkSync(join(dir, 'secret.txt'), join(staticDir, 'link.txt'));
    const frameFile = join(dir, 'frame.jpg');
    writeFileSync(frameFile, FAKE_JPEG);
    fake = fakeCore(frameFile, join(dir, 'secret.txt'));
    server = await startServer({ core: fake.core, port: 0, staticDir });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('makes a 64-hex-digit token and prints a loopback URL', () => {
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('refuses every route without the token (401)', async () => {
    expect((await raw(server.port, '/')).status).toBe(401);
    expect((await raw(server.port, '/assets/app.js')).status).toBe(401);
    expect((await raw(server.port, '/frames/7.jpg')).status).toBe(401);
    const api = await raw(server.port, '/api/project.info', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(api.status).toBe(401);
    expect((await raw(server.port, '/?token=wrong')).status).toBe(401);
    expect((await raw(server.port, '/', { headers: { Authorization: 'Bearer ' + 'x'.repeat(64) } })).status).toBe(401);
    expect(fake.calls).toHaveLength(0);
    await expect(openSocket(`ws://127.0.0.1:${server.port}/ws`)).rejects.toThrow(/401/);
  });

  it('serves the page with ?token=, sets an HttpOnly SameSite=Strict cookie, and the cookie then works', async () => {
    const page = await raw(server.port, `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Concord</title>');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toContain(`concord_token_${server.port}=${server.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const asset = await raw(server.port, '/assets/app.js', { headers: { Cookie: cookie.split(';')[0] } });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('sends the security headers', async () => {
    const page = await raw(server.port, '/', { headers: auth() });
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("img-src 'self' data: blob:");
    expect(csp).toContain('connect-src');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
  });

  it('answers requests over POST /api/<name>, and 400 with the message on a schema failure', async () => {
    const ok = await raw(server.port, '/api/project.info', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ result: { project: '/p', videos: 2 } });

    const bad = await raw(server.port, '/api/review.queue', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ limit: 0 }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/bad review.queue request: limit/);
    // the payload reaches the core as sent (no defaults filled in): the core parses it, once
    expect(fake.calls.at(-1)).toEqual({ name: 'review.queue', payload: { limit: 0 } });

    const extra = await raw(server.port, '/api/project.info', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: '{"evil":1}',
    });
    expect(extra.status).toBe(400);
    const notJson = await raw(server.port, '/api/project.info', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    const unknown = await raw(server.port, '/api/fs.read', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    const form = await raw(server.port, '/api/project.info', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(form.status).toBe(415);
    const get = await raw(server.port, '/api/project.info', { headers: auth() });
    expect(get.status).toBe(405);
    // the core's own error comes back as a readable message
    const failed = await raw(server.port, '/api/jobs.cancel', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: '{"jobId":"x"}',
    });
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body).error).toBe('no such job');
  });

  it('refuses path traversal, encoded or not, and symlinks out of the static dir', async () => {
    for (const p of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets/%00.js',
      '/link.txt',
    ]) {
      const r = await raw(server.port, p, { headers: auth() });
      expect(r.status, p).toBe(403);
      expect(r.body, p).not.toContain('outside the static dir');
    }
    expect((await raw(server.port, '/nothing-here.js', { headers: auth() })).status).toBe(404);
    expect(resolveStatic(staticDir, '/assets/app.js')).toBe(join(staticDir, 'assets', 'app.js'));
    expect(resolveStatic(staticDir, '/%2e%2e/secret.txt')).toBeNull();
  });

  it('serves frames by numeric id only, through the core', async () => {
    const img = await raw(server.port, '/frames/7.jpg', { headers: auth() });
    expect(img.status).toBe(200);
    expect(img.headers['content-type']).toBe('image/jpeg');
    expect(Number(img.headers['content-length'])).toBe(FAKE_JPEG.length);
    expect((await raw(server.port, '/frames/8.jpg', { headers: auth() })).status).toBe(404);
    const before = fake.framePathCalls.length;
    for (const p of ['/frames/..%2f..%2fsecret.txt', '/frames/7.png', '/frames/abc.jpg', '/frames/../secret.txt', '/frames/-1.jpg']) {
      const r = await raw(server.port, p, { headers: auth() });
      expect(r.status, p).toBe(404);
    }
    expect(fake.framePathCalls.slice(before)).toEqual([]);
    expect(fake.framePathCalls.every((x) => typeof x === 'number')).toBe(true);
  });

  it('answers 404 when the path a core gives for a frame is not an image (magic bytes), and logs no contents', async () => {
    const r = await raw(server.port, '/frames/9.jpg', { headers: auth() });
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('outside the static dir');
  });

  it('takes the Authorization scheme in any case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const r = await raw(server.port, '/', { headers: { Authorization: `${scheme} ${server.token}` } });
      expect(r.status, scheme).toBe(200);
    }
    expect((await raw(server.port, '/', { headers: { Authorization: `Basic ${server.token}` } })).status).toBe(401);
    expect((await raw(server.port, '/', { headers: { Authorization: `Bearer${server.token}` } })).status).toBe(401);
  });

  it('answers 404 for a NotFoundError and 503 with Retry-After for a BusyError, over HTTP and the WebSocket', async () => {
    const post = (name: string, body: unknown) =>
      raw(server.port, `/api/${name}`, {
        method: 'POST',
        headers: { ...auth(), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const missing = await post('runs.metrics', { runId: 99 });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toBe('run 99 does not exist');
    const busy = await post('review.decide', { frameIds: [503], action: 'keep' });
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(JSON.parse(busy.body).error).toMatch(/busy/);
    const ws = await openSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    ws.send(JSON.stringify({ id: 5, name: 'runs.metrics', payload: { runId: 99 } }));
    expect(await nextMessage(ws)).toEqual({ id: 5, error: 'run 99 does not exist', status: 404 });
    ws.close();
  });

  it('refuses an unexpected Host header (DNS rebinding)', async () => {
    const r = await raw(server.port, '/', { headers: { ...auth(), Host: 'evil.example:80' } });
    expect(r.status).toBe(403);
  });

  it('carries requests and events over the WebSocket; a bad message gets an error and the socket stays open', async () => {
    const ws = await openSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    ws.send('not json');
    expect(await nextMessage(ws)).toMatchObject({ id: null, error: expect.stringMatching(/not JSON/) });
    ws.send(JSON.stringify({ id: 1, name: 'review.decide', payload: { frameIds: [], action: 'accept' } }));
    const bad = await nextMessage(ws);
    expect(bad.id).toBe(1);
    expect(bad.error).toMatch(/bad review.decide request: frameIds/);
    ws.send(JSON.stringify({ id: 2, name: 'shell.exec', payload: {} }));
    expect(await nextMessage(ws)).toMatchObject({ id: 2, error: 'unknown request shell.exec' });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.send(JSON.stringify({ id: 'a', name: 'project.info', payload: {} }));
    expect(await nextMessage(ws)).toEqual({ id: 'a', result: { project: '/p', videos: 2 } });

    const ev = nextMessage(ws);
    fake.core.emit('review.changed', { frameIds: [3, 4] });
    expect(await ev).toEqual({ event: 'review.changed', data: { frameIds: [3, 4] } });
    ws.close();
  });

  it('accepts the WebSocket with the cookie, and refuses a foreign Origin', async () => {
    const cookie = `concord_token_${server.port}=${server.token}`;
    const ws = await openSocket(`ws://127.0.0.1:${server.port}/ws`, { Cookie: cookie, Origin: `http://127.0.0.1:${server.port}` });
    ws.close();
    await expect(openSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, { Origin: 'http://evil.example' })).rejects.toThrow(
      /403/,
    );
  });
});

describe('remote addresses', () => {
  it('treats only loopback as local', () => {
    for (const a of ['127.0.0.1', '127.4.5.6', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.2', '192.168.1.1', '::ffff:192.168.1.1', 'fe80::1', '0.0.0.0', '', undefined])
      expect(isLoopbackAddress(a), String(a)).toBe(false);
  });

  it('refuses a non-loopback remote address with the token', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'index.html'), 'x');
    const { core } = fakeCore(join(dir, 'none.jpg'));
    const seen: (string | undefined)[] = [];
    const server = await startServer({
      core,
      staticDir: dir,
      isAllowedAddress: (a) => {
        seen.push(a);
        return false; // as if the peer were 192.168.1.20
      },
    });
    try {
      const r = await raw(server.port, `/?token=${server.token}`);
      expect(r.status).toBe(403);
      expect(r.body).toMatch(/other machines/);
      await expect(openSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`)).rejects.toThrow(/403/);
      expect(seen[0]).toMatch(/127\.0\.0\.1/);
    } finally {
      await server.close();
    }
  });

  it('will not listen on a non-loopback host unless allowRemote is set', async () => {
    const dir = tempDir();
    const { core } = fakeCore(join(dir, 'none.jpg'));
    await expect(startServer({ core, staticDir: dir, host: '0.0.0.0' })).rejects.toThrow(/allowRemote/);
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches('abcdefabcdefabcdef', 'abcdefabcdefabcdef')).toBe(true);
    expect(tokenMatches('abcdefabcdefabcdef', 'abcdefabcdefabcdeF')).toBe(false);
    expect(tokenMatches('abcdefabcdefabcdef', 'abc')).toBe(false);
    expect(tokenMatches('abcdefabcdefabcdef', null)).toBe(false);
  });
});
