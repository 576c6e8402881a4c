// The desktop shell's security policy, written out: web preferences, CSP, which URLs are ours,
// no navigation, no new windows, no webviews, no permissions. Electron objects come in as
// parameters (type-only import), so the policy is testable without the Electron binary.
import type { App, Event, Session, WebContents, WebPreferences } from 'electron';
import { APP_ORIGIN, APP_SCHEME } from '../shared/contract';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  `img-src 'self' data: blob: ${APP_SCHEME}:`,
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Every window's webPreferences: the renderer gets no Node and talks only through the preload.
 * DevTools only outside a packaged app (a shipped build gives no console into the renderer).
 */
export function webPreferences(preload: string, opts: { isPackaged: boolean }): WebPreferences {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    devTools: !opts.isPackaged,
  };
}

/**
 * electron-vite's dev server URL, or null. Honoured only under `electron-vite dev`: a bundle built
 * in development (`devBuild`, import.meta.env.DEV, false and dead code in every `electron-vite
 * build`), not packaged, with electron-vite's NODE_ENV_ELECTRON_VITE=development beside the URL,
 * and the URL an http(s) localhost origin. An ELECTRON_RENDERER_URL alone (set for `concord start`,
 * say) must never make the app load and trust another origin with full IPC.
 */
export function devServerUrl(o: { isPackaged: boolean; devBuild: boolean; env: NodeJS.ProcessEnv }): string | null {
  const url = o.env.ELECTRON_RENDERER_URL;
  if (o.isPackaged || !o.devBuild || o.env.NODE_ENV_ELECTRON_VITE !== 'development' || !url) return null;
  try {
    const u = new URL(url);
    const local = u.hostname === 'localhost' || u.hostname === '127.0.0.1';
    return local && (u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' ? u.origin : null;
  } catch {
    return null;
  }
}

/** Privileges of the concord:// scheme (register before `ready`). */
export const SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true },
};

/**
 * Whether a URL is the app itself: concord://app/… in a build, or the electron-vite dev server
 * (only when not packaged and the dev URL was given by electron-vite).
 */
export function isAppUrl(url: string, devUrl?: string | null): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (`${u.protocol}//${u.host}` === APP_ORIGIN) return true;
  if (devUrl) {
    try {
      const d = new URL(devUrl);
      return u.origin === d.origin && (d.hostname === 'localhost' || d.hostname === '127.0.0.1');
    } catch {
      return false;
    }
  }
  return false;
}

/** The IPC sender check: the message comes from our app's top frame, nothing else. */
export function isTrustedSender(frame: { url: string; parent?: unknown } | null | undefined, devUrl?: string | null): boolean {
  if (!frame) return false;
  if (frame.parent) return false;
  return isAppUrl(frame.url, devUrl);
}

/** Deny navigation away from the app, new windows and webviews, for every web contents. */
export function hardenApp(app: App, devUrl?: string | null): void {
  app.on('web-contents-created', (_e: Event, contents: WebContents) => {
    contents.on('will-navigate', (ev, url) => {
      if (!isAppUrl(url, devUrl)) ev.preventDefault();
    });
    contents.on('will-redirect', (ev, url) => {
      if (!isAppUrl(url, devUrl)) ev.preventDefault();
    });
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

/** No camera, microphone, notifications, geolocation …; CSP on every response, dev server included. */
export function hardenSession(session: Session, devUrl?: string | null): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    if (isAppUrl(details.url, devUrl)) {
      // Vite's dev client needs its websocket; a build needs nothing beyond 'self'.
      headers['Content-Security-Policy'] = [
        devUrl ? CSP.replace("connect-src 'self'", `connect-src 'self' ${devUrl.replace(/^http/, 'ws')}`) : CSP,
      ];
      headers['X-Content-Type-Options'] = ['nosniff'];
    }
    callback({ responseHeaders: headers });
  });
}
