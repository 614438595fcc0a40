/** A column of a {@link table}: its header, how to get its text, and its alignment. */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
}

/** Rows as a plain-text table with a header and aligned columns (no colours: safe in pipes). */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (columns[i]?.align === 'right' ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/**
 * A table printed a page at a time, in constant memory: the header once, with the first page, and
 * each column as wide as the widest value seen so far (as `kubectl get` prints its chunks). A later
 * page with a longer value widens its column from there on; earlier lines are already printed.
 */
export class StreamingTable<T> {
  private widths: number[];
  private headerPrinted = false;

  constructor(private readonly columns: readonly Column<T>[]) {
    this.widths = columns.map((c) => c.header.length);
  }

  /** The lines of `rows` (preceded by the header the first time), without a trailing newline; '' for no rows after the header. */
  page(rows: readonly T[]): string {
    const cells = rows.map((row) => this.columns.map((c) => c.value(row)));
    this.widths = this.widths.map((w, i) => Math.max(w, ...cells.map((r) => (r[i] ?? '').length)));
    const line = (values: readonly string[]) =>
      values
        .map((v, i) => (this.columns[i]?.align === 'right' ? v.padStart(this.widths[i] ?? 0) : v.padEnd(this.widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    const lines = cells.map(line);
    if (!this.headerPrinted && lines.length > 0) {
      this.headerPrinted = true;
      lines.unshift(line(this.columns.map((c) => c.header)));
    }
    return lines.join('\n');
  }

  /** Whether any row was printed. */
  get started(): boolean {
    return this.headerPrinted;
  }
}

/** Key/value pairs, one a line, keys aligned. */
export function keyValues(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${text(v)}`).join('\n');
}

/** A value as table text: '-' for none, JSON for objects. */
export function text(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A ratio (0.25) as a percentage ("25.0%"). */
export function percent(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '-';
}

/** Milliseconds, human-sized: "850ms", "2.4s", "3m05s". */
export function duration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A progress bar: `[#########...........]  45% 9/20`. */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${done}/${total}`;
}
