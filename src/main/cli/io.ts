// Where a command writes: results on `out` (stdout), progress, notes and errors on `err` (stderr).
// Tests pass their own to capture both. Everything printed may hold text from a file (labels, video
// names, paths), so the default Io escapes control characters; a closed pipe (`| head -1`) ends
// the output quietly instead of crashing with EPIPE.
import { printable } from '../../shared/text';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const guarded = new WeakSet<NodeJS.WritableStream>();
const closed = new WeakSet<NodeJS.WritableStream>();

/** After the reader of `stream` goes away, drop further writes; other stream errors still throw. */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    closed.add(stream);
  });
}

function writer(stream: NodeJS.WriteStream): (s: string) => void {
  return (s) => {
    if (closed.has(stream) || stream.destroyed) return;
    quietOnClosedPipe(stream);
    stream.write(printable(s) + '\n');
  };
}

export const defaultIo: Io = {
  out: writer(process.stdout),
  err: writer(process.stderr),
};
