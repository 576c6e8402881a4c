// A stand-in trainer process for host-side tests: records the start message it gets and answers
// with a scripted run (run, warning; with autoFinish one epoch and done), acknowledges pause,
// resume (then done) and cancel (then done, cancelled), and exits after its last message.
import type { TrainerProcess } from '../../src/main/core/jobs';
import type { EpochMetrics } from '../../src/shared/api';

export const FAKE_EPOCH: EpochMetrics = {
  epoch: 0,
  loss: { total: 1.5, sup: 1.25, cons: 0.25 },
  lambda: 0.5,
  lr: 0.001,
  imagesPerSec: 12,
  etaSeconds: 3,
  val: null,
};

/** A trainer launcher whose processes push each start message onto `starts`. */
export function fakeTrainer(starts: unknown[], opts: { autoFinish?: boolean; runId?: number } = {}) {
  const runId = opts.runId ?? 7;
  return (): TrainerProcess => {
    let onMsg: (m: unknown) => void = () => {};
    let onExit: (code: number | null, signal: string | null) => void = () => {};
    let mode = 'train';
    const say = (m: unknown) => setImmediate(() => onMsg(m));
    const end = (status: 'done' | 'cancelled') => {
      say({ type: 'done', runId, result: { mode, runId, status } });
      setTimeout(() => onExit(0, null), 5);
    };
    setImmediate(() => onMsg({ type: 'ready', pid: 1 }));
    return {
      pid: 1,
      send(msg: unknown) {
        const m = msg as { type: string; mode?: string };
        if (m.type === 'start') {
          starts.push(msg);
          mode = m.mode ?? mode;
          say({ type: 'run', runId, kind: mode, backend: 'wasm', device: 'cpu', config: { epochs: 2 }, resumedFromEpoch: 1 });
          say({ type: 'warning', runId, message: '2 unreadable images skipped' });
          if (opts.autoFinish) {
            say({ type: 'epoch', runId, metrics: FAKE_EPOCH });
            end('done');
          }
        }
        if (m.type === 'pause') say({ type: 'paused' });
        if (m.type === 'cancel') end('cancelled');
        if (m.type === 'resume') {
          say({ type: 'resumed' });
          end('done');
        }
      },
      onMessage: (cb) => void (onMsg = cb),
      onExit: (cb) => void (onExit = cb),
      kill: () => onExit(null, 'SIGKILL'),
    };
  };
}
