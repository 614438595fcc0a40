/**
 * The records domain, a small business entity to isolate: a repository on top of the
 * TenantDataRouter (the same code for pooled, schema and database tenants), the /v1/records Express
 * router, a streaming CSV export and an aggregate report (the `export` and `report` jobs).
 */
export {
  recordInputSchema,
  recordPatchSchema,
  listQuerySchema,
  parseOrThrow,
  isUuid,
  encodeCursor,
  decodeCursor,
  type BusinessRecord,
  type RecordInput,
  type RecordPatch,
  type ListQuery,
} from './record';
export { RecordsRepository, RECORD_COLUMNS, toRecord, type TenantData, type TenantRef, type RecordPage } from './records-repository';
export { recordsRouter, type RecordsRouterDeps } from './records-router';
export { CsvEncoder, csvField, type CsvColumn } from './csv';
export { exportRecordsCsv, EXPORT_COLUMNS, type ExportOptions, type ExportStats } from './export';
export { reportRecords, type RecordsReport } from './report';
export { tenantKeyCipher, PLAINTEXT_FIELDS, type FieldCipher, type FieldSealer } from './field-cipher';
export { recordsReencryptionTargets, type ReencryptionStores } from './reencryption-targets';
export {
  JobResultChunks,
  discardAbandonedChunks,
  openJobResult,
  type JobResultChunksOptions,
  type StoredJobResult,
  type OpenJobResultOptions,
} from './job-results';
