// A minimal OTLP/HTTP trace receiver (JSON encoding), for tests and for a look at what a service
// exports without running a collector. Accepts POST /v1/traces with OTEL_EXPORTER_OTLP_PROTOCOL=
// http/json and keeps the spans in memory, flattened with their service name and attributes.
//   node scripts/lib/collector.cjs [port]     prints one line per span received
'use strict';
const http = require('node:http');

/** An OTLP AnyValue as a plain JS value. */
function anyValue(value) {
  if (!value || typeof value !== 'object') return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('boolValue' in value) return value.boolValue;
  if ('arrayValue' in value) return (value.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

/** OTLP KeyValue[] as an object. */
function attributesOf(list) {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** The spans of one ExportTraceServiceRequest (JSON), flattened. */
function flattenTraces(request) {
  const spans = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          service: resource['service.name'],
          scope: scopeSpans.scope?.name,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
        });
      }
    }
  }
  return spans;
}

/**
 * Starts the receiver on `port` (0: any free port) of 127.0.0.1.
 * @returns {Promise<{ endpoint: string, spans: Array<object>, close: () => Promise<void> }>}
 *   `endpoint` is the value for OTEL_EXPORTER_OTLP_ENDPOINT.
 */
function startOtlpReceiver({ port = 0, onSpan } = {}) {
  const spans = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!String(req.headers['content-type'] ?? '').includes('json')) {
        res
          .writeHead(415, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'send OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json)' }));
        return;
      }
      try {
        for (const span of flattenTraces(JSON.parse(Buffer.concat(chunks).toString('utf8')))) {
          spans.push(span);
          onSpan?.(span);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err.message }));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      resolve({
        endpoint: `http://127.0.0.1:${bound}`,
        spans,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

module.exports = { startOtlpReceiver, flattenTraces };

if (require.main === module) {
  startOtlpReceiver({
    port: Number(process.argv[2] ?? 4318),
    onSpan: (s) => console.log(`${s.traceId} ${s.service} ${s.name} tenant.id=${s.attributes['tenant.id'] ?? '-'}`),
  }).then((r) => console.log(`[collector] OTLP/HTTP JSON receiver at ${r.endpoint}/v1/traces`));
}
