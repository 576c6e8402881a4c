// The shape of `window.concord`: one named method per request, one on<Event> per event, and the
// few desktop-only actions (native dialogs, recent projects). Pure types and names: the preload
// builds it, the renderer's api.ts consumes it, nothing else knows it exists.
import type { EventName, Events, RequestName, RequestPayload, Results } from '../shared/api';

type Camel<S extends string> = S extends `${infer A}.${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;

export type RequestMethods = {
  [K in RequestName as Camel<K>]: (payload?: RequestPayload<K>) => Promise<Results[K]>;
};

export type EventMethods = {
  [E in EventName as `on${Capitalize<Camel<E>>}`]: (cb: (data: Events[E]) => void) => () => void;
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

/** Request name → bridge method; a Record so adding a request to the contract fails here until named. */
export const REQUEST_METHODS: { [K in RequestName]: Camel<K> } = {
  'project.info': 'projectInfo',
  'import.abaw': 'importAbaw',
  'import.video': 'importVideo',
  'import.images': 'importImages',
  'jobs.list': 'jobsList',
  'jobs.cancel': 'jobsCancel',
  'train.start': 'trainStart',
  'train.pause': 'trainPause',
  'train.resume': 'trainResume',
  'runs.list': 'runsList',
  'runs.metrics': 'runsMetrics',
  'infer.start': 'inferStart',
  'flags.score': 'flagsScore',
  'review.queue': 'reviewQueue',
  'review.pairs': 'reviewPairs',
  'review.frame': 'reviewFrame',
  'review.segments': 'reviewSegments',
  'review.decide': 'reviewDecide',
  'review.undo': 'reviewUndo',
  'review.redo': 'reviewRedo',
  'review.counts': 'reviewCounts',
  'export.preview': 'exportPreview',
  'export.run': 'exportRun',
};

export const EVENT_METHODS: { [E in EventName]: `on${Capitalize<Camel<E>>}` } = {
  'job.progress': 'onJobProgress',
  'job.done': 'onJobDone',
  'job.error': 'onJobError',
  'train.step': 'onTrainStep',
  'train.epoch': 'onTrainEpoch',
  'review.changed': 'onReviewChanged',
};

/** IPC channel names, shared by the preload and src/main/ipc.ts. */
export const IPC = {
  request: 'concord:request',
  event: 'concord:event',
  desktop: 'concord:desktop',
} as const;

export type DesktopCall =
  | { op: 'currentProject' }
  | { op: 'recentProjects' }
  | { op: 'chooseProject'; create: boolean }
  | { op: 'openProject'; path: string }
  | { op: 'pickPath'; kind: 'folder' | 'file'; title: string };

/** What crosses IPC back to the preload: errors as plain messages (Electron mangles thrown ones). */
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: string };

/** The custom scheme the desktop shell serves the renderer and frame crops from. */
export const APP_SCHEME = 'concord';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
