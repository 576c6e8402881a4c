// Trainer process entry: message wiring only. Runs as a Node child process (process.send /
// process.on('message')) or as an Electron utilityProcess (process.parentPort). The work is in
// runtime.ts; nothing here knows what training is.
import type { TrainerMessage } from './protocol';
import { TrainerRuntime, type RuntimeTransport } from './runtime';

interface ParentPort {
  postMessage(m: unknown): void;
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function transport(): RuntimeTransport {
  if (parentPort) {
    return {
      send: (m) => parentPort.postMessage(m),
      // MessagePort delivery is queued; give it a moment before the process goes.
      finish: (m, code) => {
        parentPort.postMessage(m);
        setTimeout(() => process.exit(code), 200);
      },
    };
  }
  if (process.send) {
    const send = process.send.bind(process);
    return {
      send: (m) => {
        if (process.connected) send(m);
      },
      finish: (m, code) => {
        if (!process.connected) process.exit(code);
        send(m, undefined, {}, () => process.exit(code));
      },
    };
  }
  process.stderr.write('concord trainer: start it through the host (no IPC channel)\n');
  process.exit(2);
}

const port = transport();
const runtime = new TrainerRuntime(port, { testHooks: process.env.CONCORD_TRAINER_TEST === '1' });

if (parentPort) parentPort.on('message', (e) => runtime.handle(e.data));
else {
  process.on('message', (m) => runtime.handle(m));
  process.on('disconnect', () => runtime.hostGone());
}

process.on('uncaughtException', (e) => {
  port.finish({ type: 'error', message: `uncaught exception in the trainer: ${e.message}`, stack: e.stack } satisfies TrainerMessage, 1);
});
process.on('unhandledRejection', (e) => {
  const err = e instanceof Error ? e : new Error(String(e));
  port.finish({ type: 'error', message: `unhandled rejection in the trainer: ${err.message}`, stack: err.stack }, 1);
});

port.send({ type: 'ready', pid: process.pid });
