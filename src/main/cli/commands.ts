// Commands beyond the foundation (training, review, hosts), loaded on demand.
import type { Io } from '../cli';

export type Command = (args: string[], io: Io) => Promise<number>;

export const commands: Record<string, Command> = {};
