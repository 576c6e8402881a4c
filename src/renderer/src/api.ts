// The renderer's only door to the core. It picks the Electron bridge (window.concord) when the
// desktop shell provides one, else the headless host's WebSocket + HTTP transport; nothing else in
// the renderer knows which.
import { ref, type Ref } from 'vue';
import type { EventName, Events, RequestName, RequestPayload, Results } from '../../shared/api';
import { EVENT_METHODS, REQUEST_METHODS } from '../../shared/contract';
import type { ConcordBridge, DesktopActions } from '../../preload/bridge';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Api {
  request<K extends RequestName>(name: K, payload?: RequestPayload<K>): Promise<Results[K]>;
  on<E extends EventName>(event: E, cb: (data: Events[E]) => void): () => void;
  /** URL of a frame's crop image. */
  frameUrl(frameId: number): string;
  /** Native dialogs and recent projects; null where the host has none (the browser). */
  desktop: Omit<DesktopActions, 'frameUrl'> | null;
  connection: Ref<ConnectionState>;
  /** Called after the transport reconnects, so stores can reload what events they missed. */
  onReconnect(cb: () => void): () => void;
}

export class RequestError extends Error {
  constructor(
    readonly request: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

function bridgeApi(bridge: ConcordBridge): Api {
  const call = bridge as unknown as Record<string, (x?: unknown) => Promise<unknown>>;
  const sub = bridge as unknown as Record<string, (cb: (d: unknown) => void) => () => void>;
  return {
    async request(name, payload) {
      try {
        return (await call[REQUEST_METHODS[name]](payload ?? {})) as never;
      } catch (e) {
        throw new RequestError(name, (e as Error).message);
      }
    },
    on: (event, cb) => sub[EVENT_METHODS[event]](cb as (d: unknown) => void),
    frameUrl: (id) => bridge.frameUrl(id),
    desktop: {
      currentProject: () => bridge.currentProject(),
      recentProjects: () => bridge.recentProjects(),
      chooseProject: (create) => bridge.chooseProject(create),
      openProject: (path) => bridge.openProject(path),
      pickPath: (kind, title) => bridge.pickPath(kind, title),
    },
    connection: ref('open'),
    onReconnect: () => () => {},
  };
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  name: string;
}

export interface WebEnv {
  location: { href: string; host: string; protocol: string };
  history?: { replaceState(data: unknown, unused: string, url?: string): void };
  fetch: typeof fetch;
  WebSocket: typeof WebSocket;
  setTimeout: typeof setTimeout;
}

/** The headless host's transport: requests over the socket when it is open, else HTTP POST. */
export function webApi(env: WebEnv): Api {
  const url = new URL(env.location.href);
  // The first page URL carries the token; keep it in memory and take it out of the address bar.
  // After that the server's HttpOnly cookie authenticates reloads, images and the socket.
  const token = url.searchParams.get('token');
  if (token && env.history) {
    url.searchParams.delete('token');
    env.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  const connection = ref<ConnectionState>('connecting');
  const listeners = new Map<string, Set<(d: unknown) => void>>();
  const reconnectCbs = new Set<() => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let retry = 0;
  let everOpened = false;

  function connect(): void {
    const proto = env.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new env.WebSocket(`${proto}//${env.location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`);
    socket = ws;
    connection.value = 'connecting';
    ws.onopen = () => {
      connection.value = 'open';
      retry = 0;
      if (everOpened) for (const cb of reconnectCbs) cb();
      everOpened = true;
    };
    ws.onmessage = (ev) => {
      let msg: { id?: number | null; result?: unknown; error?: string; status?: number; event?: string; data?: unknown };
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (msg.event) {
        for (const cb of listeners.get(msg.event) ?? []) cb(msg.data);
        return;
      }
      if (typeof msg.id !== 'number') return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new RequestError(p.name, msg.error, msg.status));
      else p.resolve(msg.result);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      connection.value = 'closed';
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new RequestError(p.name, 'the connection to Concord was lost; retry when it is back'));
      }
      retry = Math.min(retry + 1, 6);
      env.setTimeout(connect, 250 * 2 ** retry);
    };
  }
  connect();

  async function overHttp(name: string, payload: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await env.fetch(`/api/${name}`, { method: 'POST', headers, body: JSON.stringify(payload ?? {}), credentials: 'same-origin' });
    } catch (e) {
      throw new RequestError(name, `cannot reach Concord (${(e as Error).message})`);
    }
    const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as { result?: unknown; error?: string };
    if (!res.ok || body.error !== undefined) throw new RequestError(name, body.error ?? `HTTP ${res.status}`, res.status);
    return body.result;
  }

  return {
    request(name, payload) {
      const ws = socket;
      if (!ws || ws.readyState !== 1) return overHttp(name, payload) as never;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, name });
        ws.send(JSON.stringify({ id, name, payload: payload ?? {} }));
      });
    },
    on(event, cb) {
      const set = listeners.get(event) ?? new Set();
      set.add(cb as (d: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(cb as (d: unknown) => void);
    },
    frameUrl: (id) => `/frames/${id}.jpg`,
    desktop: null,
    connection,
    onReconnect(cb) {
      reconnectCbs.add(cb);
      return () => reconnectCbs.delete(cb);
    },
  };
}

function pickApi(): Api {
  const w = globalThis as unknown as { concord?: ConcordBridge; window?: unknown };
  if (w.concord) return bridgeApi(w.concord);
  return webApi({
    location: globalThis.location,
    history: globalThis.history,
    fetch: globalThis.fetch.bind(globalThis),
    WebSocket: globalThis.WebSocket,
    setTimeout: globalThis.setTimeout.bind(globalThis),
  });
}

let instance: Api | null = null;

/** The transport, made on first use. */
export function useApi(): Api {
  instance ??= pickApi();
  return instance;
}

/** Tests swap in a fake. */
export function setApi(api: Api | null): void {
  instance = api;
}
