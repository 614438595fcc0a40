// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto

import type { Long } from '@grpc/proto-loader';

export interface TenantStats {
  'tenantId'?: (string);
  'queued'?: (number);
  'inFlight'?: (number);
  'weight'?: (number | string);
  'maxInFlight'?: (number);
  'waitP50Ms'?: (number | string);
  'waitP99Ms'?: (number | string);
  /**
   * Share of the service given to this tenant over the last minute, and what its weight entitles it to.
   */
  'share'?: (number | string);
  'entitlement'?: (number | string);
  'dispatched'?: (number | string | Long);
  'throttled'?: (number | string | Long);
  '_maxInFlight'?: "maxInFlight";
}

export interface TenantStats__Output {
  'tenantId': (string);
  'queued': (number);
  'inFlight': (number);
  'weight': (number);
  'maxInFlight'?: (number);
  'waitP50Ms': (number);
  'waitP99Ms': (number);
  /**
   * Share of the service given to this tenant over the last minute, and what its weight entitles it to.
   */
  'share': (number);
  'entitlement': (number);
  'dispatched': (string);
  'throttled': (string);
  '_maxInFlight'?: "maxInFlight";
}
