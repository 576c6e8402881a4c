// The CLI's Io for in-process command tests: every line a command prints, kept per stream.
import type { Io } from '../../src/main/cli/io';

export function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => void stdout.push(s), err: (s) => void stderr.push(s) };
}
