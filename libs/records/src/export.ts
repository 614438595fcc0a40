import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import QueryStream from 'pg-query-stream';
import type { TenantTx } from '@fairway/db';
import { CsvEncoder, type CsvColumn } from './csv';
import { RECORD_COLUMNS } from './records-repository';

interface ExportRow {
  id: string;
  title: string;
  body: string;
  amount: string;
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

/** The export's columns. */
export const EXPORT_COLUMNS: ReadonlyArray<CsvColumn<ExportRow>> = [
  { header: 'id', value: (r) => r.id },
  { header: 'title', value: (r) => r.title, text: true },
  { header: 'body', value: (r) => r.body, text: true },
  { header: 'amount', value: (r) => r.amount },
  { header: 'tags', value: (r) => r.tags.join(';'), text: true },
  { header: 'created_at', value: (r) => r.created_at },
  { header: 'updated_at', value: (r) => r.updated_at },
];

/** Options of exportRecordsCsv(). */
export interface ExportOptions {
  /** Opens sealed fields (the tenant's FieldSealer): the CSV holds plaintext, the table never does. */
  open?: (value: string) => string;
  /** Rows fetched from the server-side cursor at a time (default 500). */
  batchSize?: number;
  /** CSV is handed to `write` in chunks of about this many characters (default 256 KiB). */
  chunkChars?: number;
}

/** What an export did, including evidence that it streamed. */
export interface ExportStats {
  rows: number;
  chars: number;
  /** Chunks handed to `write`. */
  chunks: number;
  /** Rows the cursor had produced when the first chunk was written: below `rows`, the export streamed. */
  rowsReadAtFirstChunk: number;
  batchSize: number;
}

/**
 * Streams every record of the transaction's tenant as CSV into `write`, in chunks: a server-side
 * cursor (pg-query-stream over pg-cursor) fetches `batchSize` rows at a time, a CSV encoder turns
 * each row into a line, and `write` is awaited before more rows are fetched (back-pressure), so
 * memory holds one batch and one chunk, never the tenant's whole table.
 */
export async function exportRecordsCsv(tx: TenantTx, write: (chunk: string) => Promise<void>, options: ExportOptions = {}): Promise<ExportStats> {
  const batchSize = options.batchSize ?? 500;
  const chunkChars = options.chunkChars ?? 256 * 1024;
  const source = tx.query(new QueryStream(`SELECT ${RECORD_COLUMNS} FROM records ORDER BY id`, [], { batchSize, highWaterMark: batchSize }));
  const open = options.open;
  const columns = open ? EXPORT_COLUMNS.map((c) => (c.header === 'body' ? { ...c, value: (r: ExportRow) => open(r.body) } : c)) : EXPORT_COLUMNS;
  const encoder = new CsvEncoder(columns);
  const stats: ExportStats = { rows: 0, chars: 0, chunks: 0, rowsReadAtFirstChunk: 0, batchSize };
  let pending = '';
  const flush = async () => {
    if (!pending) return;
    const chunk = pending;
    pending = '';
    if (stats.chunks === 0) stats.rowsReadAtFirstChunk = encoder.rows;
    stats.chunks += 1;
    stats.chars += chunk.length;
    await write(chunk);
  };
  const sink = new Writable({
    decodeStrings: false,
    write(text: string | Buffer, _encoding, callback) {
      pending += text.toString();
      if (pending.length < chunkChars) return callback();
      flush().then(() => callback(), callback);
    },
    final(callback) {
      flush().then(() => callback(), callback);
    },
  });
  await pipeline(source, encoder, sink);
  stats.rows = encoder.rows;
  return stats;
}
