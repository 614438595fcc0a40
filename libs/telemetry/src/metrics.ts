import http from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { tenantLabeller, tenantLabelLimitFromEnv } from './tenant-labels';

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Distinct tenant label values before folding into `_other`. Defaults to
   * METRICS_TENANT_LABEL_LIMIT from the environment, else 1,000.
   */
  tenantLabelLimit?: number;
}

/**
 * A prom-client registry with the process metrics, labelled with the service name, and its
 * bounded tenant labeller (see {@link tenantLabeller}; get it with `tenantLabeller(registry)`).
 */
export function createMetricsRegistry(service: string, options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  // Made now, not on first use, so the folded counter is exported (at 0) from the first scrape and
  // a bad METRICS_TENANT_LABEL_LIMIT stops the service at start-up.
  tenantLabeller(registry, { limit: options.tenantLabelLimit ?? tenantLabelLimitFromEnv() });
  return registry;
}

/**
 * Serves `/metrics` (Prometheus text format) from `registry` on its own port. `host` defaults to
 * METRICS_HOST or 127.0.0.1: in a container the scraper is on another host, so compose and
 * Kubernetes set METRICS_HOST=0.0.0.0.
 */
export function serveMetrics(registry: Registry, port: number, host = process.env['METRICS_HOST'] ?? '127.0.0.1'): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
