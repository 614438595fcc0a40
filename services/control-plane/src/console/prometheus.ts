import { UpstreamUnavailableError } from '@fairway/errors';

/** One series of an instant query: its labels and its value. */
export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

/** One series of a range query: its labels and its points, [unix seconds, value]. */
export interface RangeSeries {
  metric: Record<string, string>;
  points: Array<[number, number]>;
}

interface ApiAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> };
}

/**
 * The console's reader of Prometheus's HTTP API (PROMETHEUS_URL): instant and range queries, each
 * with a deadline. Prometheus is where the last hour lives; the scheduler keeps only the present.
 */
export class PrometheusReader {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 3_000,
  ) {}

  private async get(path: string, params: Record<string, string>): Promise<NonNullable<ApiAnswer['data']>> {
    const url = `${this.baseUrl.replace(/\/$/, '')}${path}?${new URLSearchParams(params).toString()}`;
    let answer: ApiAnswer;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      answer = (await res.json()) as ApiAnswer;
    } catch (err) {
      throw new UpstreamUnavailableError('prometheus', `Prometheus at ${this.baseUrl} did not answer: ${(err as Error).message}`, 5, { cause: err });
    }
    if (answer.status !== 'success' || !answer.data)
      throw new UpstreamUnavailableError('prometheus', `Prometheus refused the query: ${answer.error ?? 'no data'}`);
    return answer.data;
  }

  /** The value of `expr` now, one sample per series. */
  async query(expr: string): Promise<InstantSample[]> {
    const data = await this.get('/api/v1/query', { query: expr });
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value?.[1]) }));
  }

  /** `expr` from `start` to `end` (unix seconds) every `stepSeconds`. */
  async queryRange(expr: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]> {
    const data = await this.get('/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: String(stepSeconds) });
    return data.result.map((r) => ({ metric: r.metric, points: (r.values ?? []).map(([t, v]) => [t, Number(v)] as [number, number]) }));
  }
}

/** A label value as PromQL's double-quoted string literal. */
export function promString(value: string): string {
  return JSON.stringify(value);
}
