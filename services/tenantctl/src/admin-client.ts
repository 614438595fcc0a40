import { CliError, ExitCode, type ExitCodeValue } from './exit-codes';

/** Where the admin API is and who is calling it. */
export interface AdminClientOptions {
  baseUrl: string;
  token?: string;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
}

/** An RFC 9457 problem as the admin API sends it. */
interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  status?: number;
}

/** The exit code of an admin API answer's HTTP status (also for tenantctl's streaming calls). */
export function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 401 || status === 403) return ExitCode.unauthorised;
  if (status === 404) return ExitCode.notFound;
  if (status === 502 || status === 503 || status === 504) return ExitCode.unavailable;
  return ExitCode.failure;
}

/**
 * A small client of the control plane's admin API (/admin/v1). Every failure becomes a {@link CliError}
 * with the exit code a script can act on and the API's own message.
 */
export class AdminClient {
  private readonly baseUrl: string;

  constructor(private readonly options: AdminClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** GET, POST, PUT or DELETE `path` (under /admin/v1) and the parsed JSON answer. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.options.token) {
      throw new CliError(
        'no operator token: set FAIRWAY_OPERATOR_TOKEN or pass --token (mint one with `npm run -s token -- --operator`)',
        ExitCode.unauthorised,
      );
    }
    const url = `${this.baseUrl}/admin/v1${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const failure = err as { name?: string; cause?: { code?: string; errors?: Array<{ code?: string }> } };
      const cause = failure.name === 'TimeoutError' ? 'timed out' : (failure.cause?.code ?? failure.cause?.errors?.[0]?.code ?? failure.name ?? 'error');
      throw new CliError(
        `cannot reach the admin API at ${this.baseUrl} (${cause}); is the control plane running? (ADMIN_URL / --admin-url)`,
        ExitCode.unavailable,
      );
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!res.ok) {
      const problem = (parsed ?? {}) as Problem;
      const message = problem.detail ?? problem.title ?? (text.slice(0, 200) || res.statusText);
      throw new CliError(`${method} ${path}: ${res.status} ${problem.code ? `${problem.code}: ` : ''}${message}`, exitCodeForStatus(res.status), problem.code);
    }
    return parsed as T;
  }

  /**
   * GET `path` as JSON lines, yielded as they arrive (`trace export`): held at one network chunk
   * however long the answer, and the caller's pace is the server's (a slow reader stops the read).
   * The timeout covers the wait for the answer's head, not the stream.
   */
  async *lines(path: string): AsyncGenerator<string> {
    if (!this.options.token) {
      throw new CliError(
        'no operator token: set FAIRWAY_OPERATOR_TOKEN or pass --token (mint one with `npm run -s token -- --operator`)',
        ExitCode.unauthorised,
      );
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs ?? 10_000);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/admin/v1${path}`, {
        headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/x-ndjson, application/json' },
        signal: abort.signal,
      });
    } catch (err) {
      throw new CliError(
        `cannot reach the admin API at ${this.baseUrl} (${abort.signal.aborted ? 'timed out' : ((err as { cause?: { code?: string } }).cause?.code ?? 'error')}); is the control plane running? (ADMIN_URL / --admin-url)`,
        ExitCode.unavailable,
      );
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok || res.body === null) {
      const text = await res.text();
      let problem: Problem = {};
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        problem = {};
      }
      const message = problem.detail ?? problem.title ?? (text.slice(0, 200) || res.statusText);
      throw new CliError(`GET ${path}: ${res.status} ${problem.code ? `${problem.code}: ` : ''}${message}`, exitCodeForStatus(res.status), problem.code);
    }
    const decoder = new TextDecoder();
    let rest = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = rest + decoder.decode(chunk, { stream: true });
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) yield line;
      }
    } catch (err) {
      throw new CliError(`GET ${path}: the answer was cut (${(err as Error).message})`, ExitCode.unavailable);
    }
    rest += decoder.decode();
    if (rest !== '') yield rest;
  }

  /**
   * A keyset-paged list of the admin API (`GET path?limit=&after=`, answered with `nextAfter`), one
   * answer at a time, following `nextAfter` until it is null. An answer without `nextAfter` (an
   * older control plane, which sends the whole list) is the only page.
   */
  async *pageBodies<B extends object>(path: string, limit: number): AsyncGenerator<B> {
    let after: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: String(limit), ...(after === undefined ? {} : { after }) });
      const body = await this.request<B>('GET', `${path}?${query.toString()}`);
      yield body;
      const next = Array.isArray(body) ? undefined : (body as { nextAfter?: unknown }).nextAfter;
      if (typeof next !== 'string' || next === '') return;
      // A cursor that does not move would loop for ever: the server is broken, say so.
      if (after !== undefined && next <= after)
        throw new CliError(`GET ${path}: the next page's cursor '${next}' does not follow '${after}'`, ExitCode.failure);
      after = next;
    }
  }

  /** The items under `key` of each page of {@link pageBodies} (an older control plane's bare array is one page). */
  async *pages<T>(path: string, key: string, limit: number): AsyncGenerator<T[]> {
    for await (const body of this.pageBodies<Record<string, unknown> | T[]>(path, limit)) {
      yield Array.isArray(body) ? body : ((body[key] ?? []) as T[]);
    }
  }
}
