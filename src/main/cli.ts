// The `concord` command line: a host of the core like the Electron preload and the HTTP server.
// Commands parse their arguments (cli/args.ts), send the core's requests and print its job events;
// the few with no request yet (init, demo-data, doctor, import video and most training commands,
// see their files) call their modules directly.
import { openDb, ProjectError, isProjectDir } from '../store/db';
import { ImportError } from './core/ingest/abaw';
import { CancelledError } from '../shared/progress';
import { errorStatus } from '../shared/errors';
import { DemoDataError } from './core/demo/errors';
import { ABAW8 } from '../shared/labels';
import type { DatasetInfoResult } from '../shared/api';
import { asUsageError, closest, parse, projectArg, usageLine, UsageError } from './cli/args';

/** The commands cli.ts runs itself (the rest are in cli/commands.ts), for did-you-mean. */
const KNOWN_COMMANDS = ['help', 'init', 'import', 'info', 'demo-data', 'doctor'];
import { defaultIo, quietOnClosedPipe, type Io } from './cli/io';
import { JobFailedError, openCore } from './cli/core-job';

export { UsageError };
export type { Io };

export const USAGE = `concord — Consensual Collaborative Training for noisy facial-expression labels

Usage:
  concord start [project]              open the desktop app (or the headless host where Electron is missing)
  concord demo [dir]                   make a demo dataset + project and open it
  concord init <project>
  concord import abaw <project> --annotations DIR --frames DIR [--videos DIR] [--verify]
  concord import video <project> --videos DIR --annotations DIR [--detector tiny|ssd] [--detect-every K]
  concord import images <project> --list FILE --root DIR --format rafdb|affectnet|csv
                          csv rows: path,label[,split[,subject]]; a subject (person or source video)
                          makes a cross-fit hold out each subject's images together
  concord demo-data <dir> [--videos N] [--frames M] [--noise RATE] [--noise-kind symmetric|pairflip|segment] [--seed S]
  concord info <project> [--json]
  concord doctor [--json]
  concord train <project> [--nets N] [--epochs E] [--model resnet18|resnet10|small|tiny] [--input S] [--batch B]
                          [--backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu] [--config FILE] [--resume] [--json]
  concord finetune <project> --from RUN|FILE.safetensors [train options]
  concord pretrain <project> --images LIST --root DIR --format rafdb|affectnet|csv [train options]
  concord infer <project> [--in-sample | --out-of-sample [--folds K]] [--run ID] [--backend B]
                          out-of-sample (a K-fold cross-fit) where the project's plan makes it the default
  concord eval --pred DIR --gt DIR [--classes 7|8] [--json]
  concord crossfit <project> --folds K [--fold-by video|stretch] [--from RUN|FILE.safetensors] [train options]
  concord flags <project> [--top K] [--json]   the stored flags; scores first only when never scored, or with:
                [--rescore] [--rule score-threshold (default)|all-agree|confident-learning] [--run ID] [--threshold S (default 0.15; 0.2 unsmoothed; 0.25 out-of-sample)] [--smooth F (default 2)]
  concord decide <project> --frame VIDEO:FRAME --action accept|relabel:K|keep|exclude|skip
  concord decisions <project> [--top N] [--json]   each decided frame once: its action and final label
  concord undo <project> | concord redo <project>
  concord export <project> --format abaw|csv|report --out DIR [--overwrite | --new-folder]
  concord serve <project> [--port P] [--host H] [--allow-remote] [--data DIR]...
                          the UI in a browser; each --data DIR is a folder its imports may read

Every command takes --json where it prints results; errors go to stderr with exit code 1 (2 for usage mistakes).
`;

type Info = Omit<DatasetInfoResult, 'project' | 'classNames'>;

function printInfo(io: Io, info: Info): void {
  io.out(
    `videos ${info.videos}  frames ${info.frames}  labelled ${info.labelledFrames}  trainable ${info.trainableFrames}  missing crops ${info.missingCrops}  decided ${info.decidedFrames}  changed ${info.changedFrames}`,
  );
  for (const [name, s] of Object.entries(info.splits)) {
    io.out(`  ${name}: ${s.videos} videos, ${s.frames} frames, ${s.labelled} labelled, ${s.missingCrops} missing crops`);
    io.out(`    ${s.perClass.map((n, c) => `${ABAW8[c]} ${n}`).join('  ')}`);
  }
}

/**
 * A mistake in what the user typed that got past the CLI's own checks, as the one line to print:
 * the core's "bad NAME request: ..." (its zod validation of the payload) or a bare ZodError.
 */
function requestMistake(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  if (/^bad \S+ request: /.test(e.message)) return e.message.split('\n').join(' ');
  if (e.name !== 'ZodError') return null;
  const issues = (e as Error & { issues?: { path: PropertyKey[]; message: string }[] }).issues ?? [];
  return issues.map((i) => `${i.path.map(String).join('.') || 'value'}: ${i.message}`).join('; ') || 'invalid value';
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (io === defaultIo) {
    quietOnClosedPipe(process.stdout);
    quietOnClosedPipe(process.stderr);
  }
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return 0;
      case 'init': {
        const { positionals, values } = parse(rest, {});
        const dir = projectArg(positionals);
        const existed = isProjectDir(dir);
        openDb(dir, { create: true }).close();
        if (values.json) io.out(JSON.stringify({ project: dir, created: !existed }));
        else io.out(existed ? `${dir} is already a Concord project` : `created project ${dir}`);
        return 0;
      }
      case 'import':
        return await (await import('./cli/import')).importCommand(rest, io);
      case 'info': {
        const { positionals, values } = parse(rest, {});
        const core = await openCore(projectArg(positionals));
        let r: DatasetInfoResult;
        try {
          r = await core.request('project.info', {});
        } finally {
          await core.close();
        }
        // the project path and class names are for the UIs; the CLI prints what it always did
        const { project: _project, classNames: _names, ...info } = r;
        if (values.json) io.out(JSON.stringify(info));
        else printInfo(io, info);
        return 0;
      }
      case 'demo-data':
        return await (await import('./cli/demo-data')).demoDataCommand(rest, io);
      case 'doctor':
        return await (await import('./cli/doctor')).doctorCommand(parse(rest, {}).values, io);
      default: {
        const more = await import('./cli/commands');
        const handler = more.commands[cmd];
        if (!handler) {
          const guess = closest(cmd, [...KNOWN_COMMANDS, ...Object.keys(more.commands)]);
          throw new UsageError(`unknown command "${cmd}"${guess ? `; did you mean "${guess}"?` : ''}`);
        }
        return await handler(rest, io);
      }
    }
  } catch (e) {
    const usage = asUsageError(e);
    if (usage) {
      io.err(usageLine(usage));
      return 2;
    }
    const mistake = requestMistake(e);
    if (mistake !== null) {
      io.err(`concord: ${mistake}`);
      return 2;
    }
    if (e instanceof CancelledError || (e as Error)?.name === 'AbortError') {
      io.err(`concord: ${(e as Error).message}; run the same command again to resume`);
      return 130;
    }
    if (e instanceof ProjectError || e instanceof ImportError || e instanceof DemoDataError || e instanceof JobFailedError) {
      io.err(`concord: ${e.message}`);
      return 1;
    }
    // not found, refused path, busy database: errors whose message is for people (shared/errors.ts)
    if (errorStatus(e) !== null && (e as Error)?.name !== 'BusyError') {
      io.err(`concord: ${(e as Error).message}`);
      return 1;
    }
    // the core turns SQLITE_BUSY into a BusyError; commands that open the store directly get the raw code
    if ((e as NodeJS.ErrnoException)?.code === 'SQLITE_BUSY' || (e as Error)?.name === 'BusyError') {
      io.err('concord: the project database is busy (another process is writing to it); try again');
      return 1;
    }
    // anything else is a bug: the stack trace is what a report needs
    io.err(`concord: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}
