import { Transform, type TransformCallback } from 'node:stream';

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, with quotes doubled.
 * A text cell starting with = + - @ or a tab is prefixed with ' so that a spreadsheet opening the
 * export does not run it as a formula (CSV injection, OWASP).
 */
export function csvField(value: unknown, text = true): string {
  let s = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV column: its header and how to read it from a row. `text` columns get the injection guard. */
export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => unknown;
  text?: boolean;
}

/**
 * An object-mode Transform from rows to CSV lines (header first, CRLF line ends). It holds no row
 * after encoding it, so a stream of any length goes through in constant memory.
 */
export class CsvEncoder<Row> extends Transform {
  private headerWritten = false;
  /** Rows encoded so far. */
  rows = 0;

  constructor(private readonly columns: ReadonlyArray<CsvColumn<Row>>) {
    super({ writableObjectMode: true, readableObjectMode: false });
  }

  override _transform(row: Row, _encoding: BufferEncoding, callback: TransformCallback): void {
    let out = '';
    if (!this.headerWritten) {
      out += `${this.columns.map((c) => csvField(c.header, false)).join(',')}\r\n`;
      this.headerWritten = true;
    }
    out += `${this.columns.map((c) => csvField(c.value(row), c.text ?? false)).join(',')}\r\n`;
    this.rows += 1;
    callback(null, out);
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.headerWritten ? '' : `${this.columns.map((c) => csvField(c.header, false)).join(',')}\r\n`);
  }
}
