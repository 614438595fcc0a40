import { createHash } from 'node:crypto';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { readArchiveHeader, type ArchiveHeader } from '@fairway/tenant-backup';
import { exitCodeForStatus, type AdminClientOptions } from './admin-client';
import { CliError, ExitCode } from './exit-codes';

/** What a download wrote. */
export interface Downloaded {
  header: ArchiveHeader;
  bytes: number;
  /** SHA-256 (hex) of every byte written: what the control plane recorded in `tenant.backup`. */
  sha256: string;
}

/** Reports bytes moved so far, at most once a second (on stderr, for the operator). */
export type TransferProgress = (bytes: number) => void;

async function fetchAdmin(options: AdminClientOptions, method: string, path: string, init: RequestInit = {}): Promise<Response> {
  if (!options.token) {
    throw new CliError('no operator token: set FAIRWAY_OPERATOR_TOKEN or pass --token (mint one with `npm run -s token -- --operator`)', ExitCode.unauthorised);
  }
  const base = options.baseUrl.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/admin/v1${path}`, { ...init, method, headers: { authorization: `Bearer ${options.token}`, ...(init.headers ?? {}) } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new CliError(`cannot reach the admin API at ${base} (${cause}); is the control plane running? (ADMIN_URL / --admin-url)`, ExitCode.unavailable);
  }
  if (!res.ok) {
    const text = await res.text();
    let problem: { detail?: string; title?: string; code?: string } = {};
    try {
      problem = JSON.parse(text) as typeof problem;
    } catch {
      // not a problem document: its text below
    }
    const message = problem.detail ?? problem.title ?? (text.slice(0, 200) || res.statusText);
    throw new CliError(`${method} ${path}: ${res.status} ${problem.code ? `${problem.code}: ` : ''}${message}`, exitCodeForStatus(res.status), problem.code);
  }
  return res;
}

function counter(onProgress: TransferProgress | undefined, onChunk?: (chunk: Buffer) => void): Transform & { bytes: number } {
  let last = Date.now();
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      t.bytes += chunk.length;
      onChunk?.(chunk);
      if (onProgress && Date.now() - last >= 1000) {
        last = Date.now();
        onProgress(t.bytes);
      }
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

/**
 * GETs an archive from the admin API into `destination`, hashing it on the way. A stream the
 * control plane cut (it failed half way) ends in an error here, never in a quiet short file.
 */
export async function downloadArchive(
  options: AdminClientOptions,
  path: string,
  destination: Writable,
  { end, onProgress }: { end: boolean; onProgress?: TransferProgress },
): Promise<Downloaded> {
  const res = await fetchAdmin(options, 'GET', path, { headers: { accept: 'application/vnd.fairway.backup, application/problem+json' } });
  if (!res.body) throw new CliError(`GET ${path}: the answer has no body`, ExitCode.failure);
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let header: ArchiveHeader | undefined;
  const count = counter(onProgress, (chunk) => {
    hash.update(chunk);
    if (!header) {
      head = Buffer.concat([head, chunk]);
      header = readArchiveHeader(head);
    }
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), count, destination, { end });
  } catch (err) {
    throw new CliError(
      `GET ${path}: the archive stream broke off after ${count.bytes} bytes (${(err as Error).message}); nothing usable was written`,
      ExitCode.failure,
    );
  }
  if (!header) throw new CliError(`GET ${path}: the answer is not a Fairway backup archive`, ExitCode.failure);
  return { header, bytes: count.bytes, sha256: hash.digest('hex') };
}

/** POSTs `source` (an archive) as the body of `path` and returns the JSON answer. */
export async function uploadArchive<T>(options: AdminClientOptions, path: string, source: Readable, onProgress?: TransferProgress): Promise<T> {
  const count = counter(onProgress);
  const body = Readable.toWeb(source.pipe(count)) as unknown as ReadableStream<Uint8Array>;
  // duplex 'half': a streamed request body (fetch's requirement for one that is not a buffer).
  const init = { body, duplex: 'half', headers: { 'content-type': 'application/vnd.fairway.backup', accept: 'application/json' } } as RequestInit;
  const res = await fetchAdmin(options, 'POST', path, init);
  return (await res.json()) as T;
}
