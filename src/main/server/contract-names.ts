// Runtime lists of the contract's event names. `Events` is a type only; the Record below makes
// the compiler fail here when an event is added to src/shared/api.ts and not listed.
import type { EventName } from '../../shared/api';

const EVENTS: Record<EventName, true> = {
  'job.progress': true,
  'job.done': true,
  'job.error': true,
  'train.step': true,
  'train.epoch': true,
  'review.changed': true,
};

export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
