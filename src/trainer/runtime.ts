// The trainer process's dispatcher: validates host messages, runs one job (train, finetune, pretrain,
// infer, crossfit) with a RunControl, reports the outcome and asks the transport to exit.
import { RunControl } from './control';
import { parseHostMessage, type StartMessage, type TrainerMessage, type TrainerResult } from './protocol';

export interface RuntimeTransport {
  send(m: TrainerMessage): void;
  /** Sends the last message, then ends the process with this code. */
  finish(m: TrainerMessage, code: number): void;
}

async function dispatch(msg: StartMessage, control: RunControl, emit: (m: TrainerMessage) => void): Promise<TrainerResult> {
  switch (msg.mode) {
    case 'infer': {
      const { inferRun } = await import('./infer');
      return inferRun({ projectDir: msg.projectDir, runId: msg.runId, backend: msg.config.backend as string | undefined }, control, emit);
    }
    case 'crossfit': {
      const { crossfitRun } = await import('./crossfit');
      return crossfitRun(
        {
          projectDir: msg.projectDir,
          config: msg.config,
          folds: msg.folds,
          resume: msg.resume,
          runId: msg.runId,
          fromRun: msg.fromRun,
          fromFile: msg.fromFile,
        },
        control,
        emit,
      );
    }
    default: {
      const { trainRun } = await import('./loop');
      const out = await trainRun(
        {
          projectDir: msg.projectDir,
          kind: msg.mode,
          config: msg.config,
          resume: msg.resume,
          runId: msg.runId,
          fromRun: msg.fromRun,
          fromFile: msg.fromFile,
        },
        control,
        emit,
      );
      // Only plain data crosses the process boundary (no networks were kept: keepNets is off).
      return {
        mode: out.mode,
        runId: out.runId,
        status: out.status,
        epochs: out.epochs,
        final: out.final,
        skippedImages: out.skippedImages,
      };
    }
  }
}

export class TrainerRuntime {
  private control: RunControl | null = null;

  constructor(
    private readonly transport: RuntimeTransport,
    private readonly opts: { testHooks?: boolean } = {},
  ) {}

  handle(raw: unknown): void {
    let msg;
    try {
      msg = parseHostMessage(raw);
    } catch (e) {
      this.transport.send({ type: 'warning', message: (e as Error).message });
      return;
    }
    switch (msg.type) {
      case 'start':
        if (this.control) {
          this.transport.send({ type: 'warning', message: 'trainer: a job is already running in this process; start ignored' });
          return;
        }
        void this.start(msg);
        return;
      case 'cancel':
        this.control?.cancel();
        return;
      case 'pause':
        this.control?.pause();
        return;
      case 'resume':
        this.control?.resume();
        return;
      case 'crash':
        if (this.opts.testHooks) crashForTest(msg.how);
        return;
    }
  }

  /** The host went away: stop at the next safe point (the last checkpoint stays usable). */
  hostGone(): void {
    if (this.control) this.control.cancel();
    else this.transport.finish({ type: 'error', message: 'host disconnected' }, 0);
  }

  private async start(msg: StartMessage): Promise<void> {
    const control = new RunControl();
    this.control = control;
    try {
      const result = await dispatch(msg, control, (m) => this.transport.send(m));
      this.transport.finish({ type: 'done', runId: result.runId, result }, 0);
    } catch (e) {
      const err = e as Error;
      this.transport.finish({ type: 'error', message: err.message ?? String(e), stack: err.stack }, 1);
    }
  }
}

function crashForTest(how: 'abort' | 'exit' | 'throw' | 'oom'): void {
  if (how === 'abort') process.abort();
  if (how === 'exit') process.exit(3);
  if (how === 'throw') {
    setImmediate(() => {
      throw new Error('test crash: uncaught exception in the trainer');
    });
  }
  if (how === 'oom') {
    const hog: number[][] = [];
    for (;;) hog.push(new Array(1 << 20).fill(1.5));
  }
}
