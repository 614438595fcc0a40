import { instrumentations } from './tracing';

const names = (recording: boolean) => instrumentations(recording).map((i) => i.instrumentationName);

describe('instrumentations', () => {
  it('keeps the hops that carry trace context (http, express, gRPC) whether or not spans are recorded', () => {
    for (const recording of [true, false]) {
      expect(names(recording)).toEqual(
        expect.arrayContaining(['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-express', '@opentelemetry/instrumentation-grpc']),
      );
    }
  });

  it('instruments pg only when spans are recorded: a pg span carries no context anywhere', () => {
    expect(names(true)).toContain('@opentelemetry/instrumentation-pg');
    expect(names(false)).not.toContain('@opentelemetry/instrumentation-pg');
  });
});
