// Original file: protos/fairway/worker/v1/worker.proto


/**
 * One attempt of a job sent on the stream.
 */
export interface JobAssignment {
  'jobId'?: (string);
  'type'?: (string);
  /**
   * The job's parameters as JSON, validated at ingest and again by the worker.
   */
  'paramsJson'?: (string);
  /**
   * The attempt number: the fencing token of the job's lease.
   */
  'attempt'?: (number);
  /**
   * The tenant the job runs for.
   */
  'tenantId'?: (string);
  /**
   * W3C trace context and baggage of the job (the trace its request started).
   */
  'traceparent'?: (string);
  'tracestate'?: (string);
  'baggage'?: (string);
  /**
   * Milliseconds the attempt may take, counted from its arrival at the worker.
   */
  'timeoutMs'?: (number);
}

/**
 * One attempt of a job sent on the stream.
 */
export interface JobAssignment__Output {
  'jobId': (string);
  'type': (string);
  /**
   * The job's parameters as JSON, validated at ingest and again by the worker.
   */
  'paramsJson': (string);
  /**
   * The attempt number: the fencing token of the job's lease.
   */
  'attempt': (number);
  /**
   * The tenant the job runs for.
   */
  'tenantId': (string);
  /**
   * W3C trace context and baggage of the job (the trace its request started).
   */
  'traceparent': (string);
  'tracestate': (string);
  'baggage': (string);
  /**
   * Milliseconds the attempt may take, counted from its arrival at the worker.
   */
  'timeoutMs': (number);
}
