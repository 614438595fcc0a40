import type * as grpc from '@grpc/grpc-js';
import { loadSchedulerAdminProto, type SchedulerAdminClient } from '@fairway/grpc';
import { serviceCredentials } from './stack';

/** A SchedulerAdmin client on `address`, calling as the operators' CLI would. */
export function schedulerAdmin(address: string): SchedulerAdminClient {
  const SchedulerAdmin = loadSchedulerAdminProto().fairway.scheduler.v1.SchedulerAdmin;
  return new SchedulerAdmin(address, serviceCredentials('tenantctl', 'scheduler'));
}

/** Promisifies one unary call of a grpc-js client. */
export function call<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err || res === undefined ? reject(err ?? new Error('empty response')) : resolve(res))));
}
