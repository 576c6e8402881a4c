// The main window: secure web preferences, shown when ready, loading the app from concord://app
// (or the electron-vite dev server while developing), with the app icon from resources/.
import { app, BrowserWindow, nativeTheme } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { APP_ORIGIN } from '../shared/contract';
import { webPreferences } from './security';

/**
 * resources/icon.png (256x256, made from icon.svg by scripts/make-icon.mjs). app.getAppPath() is the
 * project root in development and resources/app.asar when packaged (Electron reads files inside
 * asar); an extraResources copy would sit directly in process.resourcesPath. Undefined when absent:
 * the window then shows the platform's default icon.
 */
export function appIconPath(): string | undefined {
  const candidates = [join(app.getAppPath(), 'resources', 'icon.png')];
  if (process.resourcesPath) candidates.push(join(process.resourcesPath, 'icon.png'));
  return candidates.find((p) => existsSync(p));
}

export interface WindowOptions {
  preload: string;
  /** electron-vite's dev server URL, only under `electron-vite dev` (security.ts devServerUrl). */
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
    icon: appIconPath(),
    webPreferences: webPreferences(opts.preload, { isPackaged: app.isPackaged }),
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(opts.devUrl ? opts.devUrl : `${APP_ORIGIN}/index.html`);
  return win;
}
