import type { Writable } from 'node:stream';

/** What a process stream offers here: a Writable (process.stdout and process.stderr are sockets or files). */
type OutputStream = Pick<Writable, 'write' | 'writableNeedDrain' | 'once' | 'off'>;

/**
 * Settles once everything written to `stream` so far has been handed to the operating system.
 * On POSIX a pipe is written asynchronously, so `process.exit()` right after a write drops what
 * is still queued: `tenantctl tenants list --json | jq` got the first 65,536 bytes (one pipe
 * buffer) and nothing more (#18). A zero-length write is queued behind every earlier chunk, and
 * its callback runs after they were written. An error (the reader went away) settles it too:
 * there is nobody left to wait for.
 */
export function flushed(stream: OutputStream): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * Settles when `stream` can take more: at once while its buffer is under the high-water mark,
 * else on `drain` (or on an error, after which writes are dropped anyway). A command that prints
 * page after page awaits it between pages, so a slow reader holds tenantctl at one page of memory
 * instead of letting it buffer the whole list.
 */
export function writable(stream: OutputStream): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
  });
}

/** True for the error a write gets when the reading end of the pipe is closed (`| head`). */
export function isBrokenPipe(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'EPIPE';
}
