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

function exitCodeForStatus(status: number): ExitCodeValue {
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
}
