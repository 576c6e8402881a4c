// The headless host: the same contract as the Electron shell, over HTTP + WebSocket, for a browser.
// Trust boundary: everything arriving here is untrusted until the token, the remote address and the
// Host header have been checked; the core parses each request's payload against the contract.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { extname, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { isRequestName, type ConcordCore, type RequestName } from '../../shared/api';
import { EVENT_NAMES } from '../../shared/contract';
import { errorStatus } from '../../shared/errors';
import { frameImageOf } from '../core/frame-file';
import { sourceFrame, sourceFrameDepsOf } from '../core/source-frame';
import { resolveStatic } from './static-path';

export { resolveStatic };

export interface ServerOptions {
  core: ConcordCore;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** 32 random bytes as hex unless given. */
  token?: string;
  /** The built renderer (out/web). */
  staticDir: string;
  /** Accept connections from other machines; off by default, and required for a non-loopback host. */
  allowRemote?: boolean;
  /** Which remote addresses may connect; defaults to loopback only (or anything with allowRemote). */
  isAllowedAddress?: (address: string | undefined) => boolean;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export const CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // The first page URL carries the token: never send it on as a referrer.
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
};

const MAX_BODY = 8 * 1024 * 1024;

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host.replace(/^\[|\]$/g, ''));
}

/** Constant-time token comparison. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 500 | 503;

/** Which HTTP status a failed request maps to: a status the error carries (src/shared/errors.ts) wins. */
export function statusForError(e: unknown): ErrorStatus {
  const err = e as Error;
  const carried = errorStatus(e);
  if (carried) return carried;
  if (err?.message?.startsWith('bad ') && err.message.includes(' request: ')) return 400;
  if (err?.name === 'PathRefusedError' || err?.constructor?.name === 'PathRefusedError') return 403;
  return 500;
}

/** The token of an `Authorization: Bearer …` header; the scheme is case-insensitive (RFC 7235). */
export function bearerToken(header: string | undefined): string | null {
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!opts.allowRemote && !isLoopbackHost(host)) {
    throw new Error(`refusing to listen on ${host}: it is reachable from other machines; pass allowRemote (--allow-remote) to mean it`);
  }
  const token = opts.token ?? randomBytes(32).toString('hex');
  if (token.length < 16) throw new Error('the server token must be at least 16 characters');
  const staticDir = resolve(opts.staticDir);
  try {
    if (!statSync(staticDir).isDirectory()) throw new Error();
  } catch {
    throw new Error(`renderer build not found at ${staticDir} (run \`npm run build:web\`)`);
  }
  const allowedAddress = opts.isAllowedAddress ?? (opts.allowRemote ? () => true : isLoopbackAddress);
  const log = opts.log ?? (() => {});
  const { core } = opts;
  let port = 0;
  // Cookies are shared by every port of a host, so the name carries the port.
  const cookieName = () => `concord_token_${port}`;

  function authorised(req: IncomingMessage, url: URL): boolean {
    if (tokenMatches(token, bearerToken(req.headers.authorization))) return true;
    if (tokenMatches(token, url.searchParams.get('token'))) return true;
    return tokenMatches(token, parseCookies(req.headers.cookie)[cookieName()]);
  }

  /** Host header check against DNS rebinding: a loopback server answers only to loopback names. */
  function hostAllowed(req: IncomingMessage): boolean {
    if (opts.allowRemote) return true;
    const h = req.headers.host;
    if (!h) return false;
    const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0];
    return isLoopbackHost(name);
  }

  function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  }
  const sendJson = (res: ServerResponse, status: number, body: unknown) =>
    send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
  const sendText = (res: ServerResponse, status: number, text: string) => send(res, status, text + '\n', 'text/plain; charset=utf-8');

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) throw Object.assign(new Error('request body too large'), { status: 413 });
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' });
    // A JSON content type forces a CORS preflight for any cross-origin caller.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return sendJson(res, 415, { error: 'Content-Type must be application/json' });
    if (!isRequestName(name)) return sendJson(res, 404, { error: `unknown request ${name}` });
    let payload: unknown;
    try {
      const text = await readBody(req);
      payload = text.trim() ? JSON.parse(text) : {};
    } catch (e) {
      const status = (e as { status?: number }).status ?? 400;
      return sendJson(res, status, { error: status === 413 ? 'request body too large' : `bad ${name} request: body is not JSON` });
    }
    const out = await runRequest(name, payload);
    const body = JSON.stringify(out.status === 200 ? { result: out.result } : { error: out.error });
    // A busy database is worth retrying shortly (BusyError); the UI shows the message meanwhile.
    send(
      res,
      out.status,
      body,
      'application/json; charset=utf-8',
      out.status === 503 ? { 'Retry-After': String(out.retryAfter ?? 1) } : {},
    );
  }

  async function runRequest(
    name: RequestName,
    payload: unknown,
  ): Promise<{ status: number; result?: unknown; error?: string; retryAfter?: number }> {
    try {
      // The core parses the payload (the contract's schema); its "bad … request" errors become 400.
      return { status: 200, result: await core.request(name, payload as never) };
    } catch (e) {
      const retry = (e as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      return {
        status: statusForError(e),
        error: (e as Error).message ?? String(e),
        ...(typeof retry === 'number' ? { retryAfter: Math.max(1, Math.ceil(retry)) } : {}),
      };
    }
  }

  function handleFrame(res: ServerResponse, id: string): void {
    const frameId = Number(id);
    // The core checks containment; frameImageOf checks the magic bytes again and names the type.
    const img = Number.isSafeInteger(frameId) ? frameImageOf(frameId, core.framePath(frameId), log) : null;
    if (!img) return sendText(res, 404, `no image for frame ${id}`);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': img.type,
      'Content-Length': String(img.size),
      'Cache-Control': 'private, max-age=3600',
    });
    createReadStream(img.file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  /** `/frames/<id>.jpg?source=1`: the frame at its source video's resolution (core/source-frame.ts). */
  async function handleSourceFrame(res: ServerResponse, id: string): Promise<void> {
    const deps = sourceFrameDepsOf(core);
    const frameId = Number(id);
    if (!deps || !Number.isSafeInteger(frameId)) return sendText(res, 404, 'source video not available');
    const r = await sourceFrame(deps, frameId);
    if (!r.ok) return sendText(res, r.status, r.reason);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': r.image.type,
      'Content-Length': String(r.image.size),
      'Cache-Control': 'private, max-age=3600',
    });
    createReadStream(r.image.file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL, rawPath: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed');
    const file = resolveStatic(staticDir, rawPath);
    if (!file) return sendText(res, 403, 'path refused');
    let st;
    try {
      st = statSync(file);
    } catch {
      return sendText(res, 404, 'not found');
    }
    if (!st.isFile()) return sendText(res, 404, 'not found');
    const extra: Record<string, string> = { 'Content-Length': String(st.size) };
    if (url.searchParams.has('token')) {
      extra['Set-Cookie'] = `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Cache-Control': file.endsWith('.html') ? 'no-store' : 'private, max-age=600',
      ...extra,
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  const server = createServer((req, res) => {
    void (async () => {
      if (!allowedAddress(req.socket.remoteAddress)) return sendText(res, 403, 'connections from other machines are refused');
      if (!hostAllowed(req)) return sendText(res, 403, 'unexpected Host header');
      const rawPath = (req.url ?? '/').split('?')[0];
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        return sendText(res, 400, 'bad URL');
      }
      if (!authorised(req, url)) {
        return send(
          res,
          401,
          'Concord: this page needs the token. Open the URL that `concord serve` printed (it ends in ?token=…).\n',
          'text/plain; charset=utf-8',
          {
            'WWW-Authenticate': 'Bearer',
          },
        );
      }
      const api = /^\/api\/([a-z]+\.[a-z]+)$/.exec(rawPath);
      if (api) return await handleApi(req, res, api[1]);
      if (rawPath.startsWith('/api/')) return sendJson(res, 404, { error: `unknown request ${rawPath.slice(5)}` });
      const frame = /^\/frames\/(\d{1,15})\.jpg$/.exec(rawPath);
      if (frame) return url.searchParams.get('source') === '1' ? await handleSourceFrame(res, frame[1]) : handleFrame(res, frame[1]);
      if (rawPath.startsWith('/frames/')) return sendText(res, 404, 'frames are served by numeric id only');
      return handleStatic(req, res, url, rawPath);
    })().catch((e) => {
      log(`server error: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(400, 'Bad Request');
    }
    if (!allowedAddress(req.socket.remoteAddress)) return refuse(403, 'Forbidden');
    if (!hostAllowed(req)) return refuse(403, 'Forbidden');
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    // A page from another site must not open our socket with the user's cookie.
    const origin = req.headers.origin;
    if (origin && req.headers.host && origin !== `http://${req.headers.host}`) return refuse(403, 'Forbidden');
    if (!authorised(req, url)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: RawData) => {
      void onSocketMessage(ws, data);
    });
    ws.on('error', (e) => log(`websocket error: ${e.message}`));
  });

  async function onSocketMessage(ws: WebSocket, data: RawData): Promise<void> {
    let msg: { id?: unknown; name?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return reply(ws, { id: null, error: 'bad message: not JSON' });
    }
    const id = typeof msg?.id === 'string' || typeof msg?.id === 'number' ? msg.id : null;
    if (id === null) return reply(ws, { id: null, error: 'bad message: needs an id (string or number)' });
    if (typeof msg.name !== 'string' || !isRequestName(msg.name)) return reply(ws, { id, error: `unknown request ${String(msg.name)}` });
    const out = await runRequest(msg.name, msg.payload);
    reply(ws, out.status === 200 ? { id, result: out.result } : { id, error: out.error, status: out.status });
  }

  function reply(ws: WebSocket, body: unknown): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(body));
  }

  const unsubscribe = EVENT_NAMES.map((event) =>
    core.on(event, (data) => {
      const text = JSON.stringify({ event, data });
      for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(text);
    }),
  );

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost === '0.0.0.0' || shownHost === '[::]' ? '127.0.0.1' : shownHost}:${port}/`;

  return {
    url,
    token,
    port,
    close: async () => {
      for (const u of unsubscribe) u();
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
