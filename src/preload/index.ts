// The sandboxed preload: exposes `window.concord` with one named method per request and one
// on<Event> per event (each returning its unsubscribe). ipcRenderer itself never crosses over.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EventName, RequestName } from '../shared/api';
import { APP_ORIGIN, EVENT_METHODS, IPC, REQUEST_METHODS } from '../shared/contract';
import type { ConcordBridge, DesktopCall, IpcReply } from './bridge';

async function unwrap<T>(p: Promise<IpcReply<T>>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function request(name: RequestName) {
  return (payload?: unknown) => unwrap(ipcRenderer.invoke(IPC.request, name, payload ?? {}));
}

function subscribe(name: EventName) {
  return (cb: (data: unknown) => void): (() => void) => {
    if (typeof cb !== 'function') throw new TypeError(`${EVENT_METHODS[name]} needs a callback`);
    const listener = (_e: IpcRendererEvent, event: string, data: unknown) => {
      if (event === name) cb(data);
    };
    ipcRenderer.on(IPC.event, listener);
    return () => {
      ipcRenderer.removeListener(IPC.event, listener);
    };
  };
}

const desktop = (call: DesktopCall) => unwrap(ipcRenderer.invoke(IPC.desktop, call));

const bridge: Record<string, unknown> = {
  currentProject: () => desktop({ op: 'currentProject' }),
  recentProjects: () => desktop({ op: 'recentProjects' }),
  chooseProject: (create: boolean) => desktop({ op: 'chooseProject', create: Boolean(create) }),
  openProject: (path: string) => desktop({ op: 'openProject', path: String(path) }),
  pickPath: (kind: 'folder' | 'file', title: string) => desktop({ op: 'pickPath', kind, title: String(title ?? '') }),
  frameUrl: (frameId: number) => `${APP_ORIGIN}/frames/${Math.trunc(Number(frameId))}.jpg`,
};
for (const name of Object.keys(REQUEST_METHODS) as RequestName[]) bridge[REQUEST_METHODS[name]] = request(name);
for (const name of Object.keys(EVENT_METHODS) as EventName[]) bridge[EVENT_METHODS[name]] = subscribe(name);

contextBridge.exposeInMainWorld('concord', bridge as unknown as ConcordBridge);
