// The shape of `window.concord`: one named method per request, one on<Event> per event, and the
// few desktop-only actions (native dialogs, recent projects). Pure types: the preload
// builds it, the renderer's api.ts consumes it, nothing else knows it exists. The runtime names
// (methods, channels, scheme) live in src/shared/contract.ts.
import type { EventName, Events, RequestName, RequestPayload, Results } from '../shared/api';
import type { Camel, EventMethodName } from '../shared/contract';

export type RequestMethods = {
  [K in RequestName as Camel<K>]: (payload?: RequestPayload<K>) => Promise<Results[K]>;
};

export type EventMethods = {
  [E in EventName as EventMethodName<E>]: (cb: (data: Events[E]) => void) => () => void;
};

export interface RecentProject {
  path: string;
  openedAt: string;
}

/** What only the desktop shell can do. */
export interface DesktopActions {
  /** The open project's folder, or null before one is opened. */
  currentProject(): Promise<string | null>;
  recentProjects(): Promise<RecentProject[]>;
  /** Native folder dialog, then open it (creating the project when `create`); null if cancelled. */
  chooseProject(create: boolean): Promise<string | null>;
  openProject(path: string): Promise<string>;
  /** Native picker for a path a request needs; null if cancelled. */
  pickPath(kind: 'folder' | 'file', title: string): Promise<string | null>;
  /** URL of a frame's crop image (served by the shell's own protocol). */
  frameUrl(frameId: number): string;
}

export type ConcordBridge = RequestMethods & EventMethods & DesktopActions;

export type DesktopCall =
  | { op: 'currentProject' }
  | { op: 'recentProjects' }
  | { op: 'chooseProject'; create: boolean }
  | { op: 'openProject'; path: string }
  | { op: 'pickPath'; kind: 'folder' | 'file'; title: string };

/** What crosses IPC back to the preload: errors as plain messages (Electron mangles thrown ones). */
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: string };
