// Where a command writes: results on `out` (stdout), progress, notes and errors on `err` (stderr).
// Tests pass their own to capture both.
export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
};
