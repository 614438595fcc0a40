import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as WorkerProto } from './generated/worker';
import type { ProtoGrpcType as TenantCatalogProto } from './generated/tenant_catalog';
import type { ProtoGrpcType as SchedulerAdminProto } from './generated/scheduler_admin';
import type { ProtoGrpcType as KeyServiceProto } from './generated/key_service';

/** The folder of the .proto files. */
export const PROTOS_DIR = path.resolve(__dirname, '..', '..', '..', 'protos');

/** Must match the flags of scripts/gen-protos.cjs, or the generated types would lie. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTOS_DIR],
};

function load<T>(file: string): T {
  const definition = protoLoader.loadSync(file, LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition) as unknown as T;
}

/** fairway.worker.v1 */
export const loadWorkerProto = (): WorkerProto => load<WorkerProto>('fairway/worker/v1/worker.proto');

/** fairway.tenancy.v1 */
export const loadTenantCatalogProto = (): TenantCatalogProto => load<TenantCatalogProto>('fairway/tenancy/v1/tenant_catalog.proto');

/** fairway.scheduler.v1 */
export const loadSchedulerAdminProto = (): SchedulerAdminProto => load<SchedulerAdminProto>('fairway/scheduler/v1/scheduler_admin.proto');

/** fairway.keys.v1 */
export const loadKeyServiceProto = (): KeyServiceProto => load<KeyServiceProto>('fairway/keys/v1/key_service.proto');
