// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface WorkerCapacity {
  'workerId'?: (string);
  'address'?: (string);
  'capacity'?: (number);
  'inUse'?: (number);
}

export interface WorkerCapacity__Output {
  'workerId': (string);
  'address': (string);
  'capacity': (number);
  'inUse': (number);
}
