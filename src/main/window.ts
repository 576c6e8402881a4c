// The main window: secure web preferences, shown when ready, loading the app from concord://app
// (or the electron-vite dev server while developing).
import { BrowserWindow, nativeTheme } from 'electron';
import { APP_ORIGIN, webPreferences } from './security';

export interface WindowOptions {
  preload: string;
  /** electron-vite's dev server URL (ELECTRON_RENDERER_URL) when not packaged. */
  devUrl?: string | null;
  title?: string;
}

export function createMainWindow(opts: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 640,
    show: false,
    title: opts.title ?? 'Concord',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#111316' : '#f7f7f8',
    autoHideMenuBar: true,
    webPreferences: webPreferences(opts.preload),
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(opts.devUrl ? opts.devUrl : `${APP_ORIGIN}/index.html`);
  return win;
}
