// Commands beyond the foundation (training, review, hosts), loaded on demand so `concord info`
// never pays for tfjs or the web build.
import type { Io } from './io';

export type Command = (args: string[], io: Io) => Promise<number>;

const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Command): Command =>
  async (args, io) =>
    pick(await load())(args, io);

const train = () => import('./train');
const pretrain = () => import('./pretrain');
const evaluate = () => import('./eval');
const review = () => import('./review');
const serve = () => import('./serve');

export const commands: Record<string, Command> = {
  train: lazy(train, (m) => m.train),
  finetune: lazy(train, (m) => m.finetune),
  pretrain: lazy(pretrain, (m) => m.pretrain),
  infer: lazy(train, (m) => m.infer),
  crossfit: lazy(train, (m) => m.crossfit),
  eval: lazy(evaluate, (m) => m.evalCommand),
  flags: lazy(review, (m) => m.flagsCommand),
  decide: lazy(review, (m) => m.decideCommand),
  decisions: lazy(review, (m) => m.decisionsCommand),
  undo: lazy(review, (m) => m.undoCommand),
  redo: lazy(review, (m) => m.redoCommand),
  export: lazy(review, (m) => m.exportCommand),
  serve: lazy(serve, (m) => m.serveCommand),
  start: lazy(serve, (m) => m.startCommand),
  demo: lazy(serve, (m) => m.startCommand),
};
