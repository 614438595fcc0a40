// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto

import type { TierCapacity as _fairway_scheduler_v1_TierCapacity, TierCapacity__Output as _fairway_scheduler_v1_TierCapacity__Output } from '../../../fairway/scheduler/v1/TierCapacity';
import type { WorkerCapacity as _fairway_scheduler_v1_WorkerCapacity, WorkerCapacity__Output as _fairway_scheduler_v1_WorkerCapacity__Output } from '../../../fairway/scheduler/v1/WorkerCapacity';

/**
 * A replica's capacity: what the workers connected to it advertise, and how its tiers share it.
 */
export interface Capacity {
  /**
   * Slots the connected workers advertise, and how many of them run a job now.
   */
  'total'?: (number);
  'inUse'?: (number);
  'tiers'?: (_fairway_scheduler_v1_TierCapacity)[];
  'workers'?: (_fairway_scheduler_v1_WorkerCapacity)[];
}

/**
 * A replica's capacity: what the workers connected to it advertise, and how its tiers share it.
 */
export interface Capacity__Output {
  /**
   * Slots the connected workers advertise, and how many of them run a job now.
   */
  'total': (number);
  'inUse': (number);
  'tiers': (_fairway_scheduler_v1_TierCapacity__Output)[];
  'workers': (_fairway_scheduler_v1_WorkerCapacity__Output)[];
}
