import { describe, expect, it } from 'vitest';
import { webApi, type WebEnv } from '../../../src/renderer/src/api';

/** A socket double: records what is sent, lets the test play the server. */
class FakeSocket {
  static last: FakeSocket | null = null;
  readyState = 0;
  sent: any[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  serverSays(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

function env(href: string, fetchImpl?: typeof fetch) {
  const replaced: string[] = [];
  const timers: (() => void)[] = [];
  const fetched: { url: string; init: RequestInit }[] = [];
  const e: WebEnv = {
    location: { href, host: new URL(href).host, protocol: 'http:' },
    history: { replaceState: (_d, _u, url) => replaced.push(String(url)) },
    fetch:
      fetchImpl ??
      (async (url: any, init: any) => {
        fetched.push({ url: String(url), init });
        return new Response(JSON.stringify({ result: { via: 'http' } }), { status: 200 });
      }),
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    setTimeout: ((fn: () => void) => (timers.push(fn), 0)) as unknown as typeof setTimeout,
  };
  return { e, replaced, timers, fetched };
}

describe('browser transport', () => {
  it('takes the token from the URL, removes it from the address bar, and uses it for the socket and HTTP', async () => {
    const { e, replaced, fetched } = env('http://127.0.0.1:4000/?token=abc123#/review');
    const api = webApi(e);
    expect(replaced).toEqual(['/#/review']);
    expect(FakeSocket.last!.url).toBe('ws://127.0.0.1:4000/ws?token=abc123');
    // socket not open yet: HTTP with the bearer token
    expect(await api.request('project.info', {})).toEqual({ via: 'http' });
    expect(fetched[0].url).toBe('/api/project.info');
    expect((fetched[0].init.headers as Record<string, string>).Authorization).toBe('Bearer abc123');
  });

  it('sends requests over the open socket and matches replies by id; errors reject with the message', async () => {
    const { e } = env('http://127.0.0.1:4000/?token=t');
    const api = webApi(e);
    const ws = FakeSocket.last!;
    ws.open();
    expect(api.connection.value).toBe('open');
    const a = api.request('review.counts', {});
    const b = api.request('review.undo', {});
    expect(ws.sent.map((m) => m.name)).toEqual(['review.counts', 'review.undo']);
    ws.serverSays({ id: ws.sent[1].id, error: 'nothing to undo', status: 500 });
    ws.serverSays({ id: ws.sent[0].id, result: { flagged: 3, decided: 1, open: 2 } });
    await expect(b).rejects.toThrow('nothing to undo');
    expect(await a).toEqual({ flagged: 3, decided: 1, open: 2 });
  });

  it('delivers events to subscribers until they unsubscribe', () => {
    const { e } = env('http://127.0.0.1:4000/');
    const api = webApi(e);
    const ws = FakeSocket.last!;
    ws.open();
    const got: unknown[] = [];
    const off = api.on('review.changed', (d) => got.push(d));
    ws.serverSays({ event: 'review.changed', data: { frameIds: [1] } });
    ws.serverSays({ event: 'train.step', data: {} });
    off();
    ws.serverSays({ event: 'review.changed', data: { frameIds: [2] } });
    expect(got).toEqual([{ frameIds: [1] }]);
  });

  it('fails pending requests when the socket drops, reconnects, and tells stores to reload', async () => {
    const { e, timers } = env('http://127.0.0.1:4000/');
    const api = webApi(e);
    const first = FakeSocket.last!;
    first.open();
    let reloads = 0;
    api.onReconnect(() => reloads++);
    const p = api.request('project.info', {});
    first.drop();
    await expect(p).rejects.toThrow(/connection .* lost/);
    expect(api.connection.value).toBe('closed');
    timers.shift()!();
    const second = FakeSocket.last!;
    expect(second).not.toBe(first);
    second.open();
    expect(reloads).toBe(1);
  });

  it('turns an HTTP error into a RequestError with the server message', async () => {
    const { e } = env(
      'http://127.0.0.1:4000/',
      (async () => new Response(JSON.stringify({ error: 'bad review.queue request: limit: too small' }), { status: 400 })) as typeof fetch,
    );
    const api = webApi(e);
    await expect(api.request('review.queue', { limit: 0 } as never)).rejects.toMatchObject({
      message: /limit: too small/,
      status: 400,
      request: 'review.queue',
    });
  });

  it('serves frame images by id', () => {
    const { e } = env('http://127.0.0.1:4000/');
    expect(webApi(e).frameUrl(42)).toBe('/frames/42.jpg');
  });
});
