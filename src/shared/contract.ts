// The contract's runtime names: bridge method names, event names, IPC channels and the desktop
// shell's app scheme. Pure values and types (no node, electron or DOM imports), so the sandboxed
// preload, src/main/ipc.ts, the server and the renderer all read the same list.
import type { EventName, RequestName } from './api';

/** 'review.decide' → 'reviewDecide'. */
export type Camel<S extends string> = S extends `${infer A}.${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;

/** 'job.progress' → 'onJobProgress'. */
export type EventMethodName<E extends string> = `on${Capitalize<Camel<E>>}`;

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
  'train.pretrainFinetune': 'trainPretrainFinetune',
  'train.resume': 'trainResume',
  'runs.list': 'runsList',
  'runs.metrics': 'runsMetrics',
  'runs.steps': 'runsSteps',
  'infer.start': 'inferStart',
  'flags.score': 'flagsScore',
  'flags.plan': 'flagsPlan',
  'review.queue': 'reviewQueue',
  'review.pairs': 'reviewPairs',
  'review.frame': 'reviewFrame',
  'review.segments': 'reviewSegments',
  'review.decide': 'reviewDecide',
  'review.frameId': 'reviewFrameId',
  'review.locate': 'reviewLocate',
  'review.undo': 'reviewUndo',
  'review.redo': 'reviewRedo',
  'review.counts': 'reviewCounts',
  'review.decisions': 'reviewDecisions',
  'export.preview': 'exportPreview',
  'export.run': 'exportRun',
  'fs.list': 'fsList',
  'dataset.frames': 'datasetFrames',
};

/** Event name → bridge subscription method; a Record for the same reason. */
export const EVENT_METHODS: { [E in EventName]: EventMethodName<E> } = {
  'job.progress': 'onJobProgress',
  'job.done': 'onJobDone',
  'job.error': 'onJobError',
  'train.step': 'onTrainStep',
  'train.epoch': 'onTrainEpoch',
  'train.run': 'onTrainRun',
  'train.warning': 'onTrainWarning',
  'train.paused': 'onTrainPaused',
  'review.changed': 'onReviewChanged',
};

/** Every event of the contract, for the hosts that relay them all. */
export const EVENT_NAMES = Object.keys(EVENT_METHODS) as EventName[];

/** IPC channel names, shared by the preload and src/main/ipc.ts. */
export const IPC = {
  request: 'concord:request',
  event: 'concord:event',
  desktop: 'concord:desktop',
} as const;

/** The custom scheme the desktop shell serves the renderer and frame crops from. */
export const APP_SCHEME = 'concord';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
