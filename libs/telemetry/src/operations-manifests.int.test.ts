import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/* eslint-disable @typescript-eslint/no-require-imports -- the tooling helpers are plain CommonJS shared with scripts */
const { promtool, composeCommand, STATE_DIR } = require('../../../scripts/lib/prometheus.cjs') as {
  promtool: (args: string[], options?: { cwd?: string }) => { status: number | null; output: string };
  composeCommand: () => string[];
  STATE_DIR: string;
};
const { SERVICE_NODE_FLAGS } = require('../../../scripts/lib/services.cjs') as { SERVICE_NODE_FLAGS: Record<string, string[]> };
/* eslint-enable @typescript-eslint/no-require-imports */

const root = path.resolve(__dirname, '../../..');
const prometheusDir = path.join(root, 'deploy', 'prometheus');

/** The metric names the dashboards and alerts may use: what the services expose or will expose. */
const KNOWN_METRICS = new Set([
  'fairway_edge_commands_accepted_total',
  'fairway_edge_auth_refusals_total',
  'fairway_edge_kafka_send_seconds_bucket',
  'fairway_edge_kafka_send_seconds_count',
  'fairway_scheduler_ingested_total',
  'fairway_scheduler_dead_lettered_total',
  'fairway_scheduler_job_transitions_total',
  'fairway_scheduler_in_flight',
  'fairway_worker_jobs_total',
  'fairway_worker_job_duration_seconds_bucket',
  'fairway_scheduler_queue_depth',
  'fairway_scheduler_tenant_in_flight',
  'fairway_scheduler_wait_seconds_bucket',
  'fairway_scheduler_dispatched_total',
  'fairway_scheduler_throttled_total',
  'fairway_scheduler_ingest_lag',
  'fairway_tenant_quota',
  'fairway_scheduler_share_ratio',
  'fairway_metrics_tenant_labels_folded_total',
  'nodejs_eventloop_lag_p99_seconds',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'up',
]);

/** Metric names in a PromQL expression (identifiers followed by a selector, range or `)`/space), minus functions and keywords. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const words = withoutStrings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\{|\[|\)|$|\s|,|>|<|=|\/|\*|\+|-))/g) ?? [];
  const keywords = new Set([
    'by',
    'on',
    'and',
    'or',
    'unless',
    'group_left',
    'group_right',
    'without',
    'ignoring',
    'bool',
    'offset',
    'le',
    'tenant',
    'quota',
    'reason',
    'class',
    'outcome',
    'type',
    'state',
    'service',
    'instance',
    'partition',
    'job',
    'sum',
    'max',
    'min',
    'avg',
    'count',
    'topk',
    'bottomk',
    'quantile',
    'stddev',
  ]);
  return words.filter((w) => !keywords.has(w) && !/^\$/.test(w));
}

describe('Prometheus configuration and rules', () => {
  it('passes promtool check config, with its rule files found', () => {
    // The shipped config names the rules' path inside the container; check a copy that points at
    // the repository's rules, so promtool really loads them.
    const dir = path.join(STATE_DIR, 'check');
    mkdirSync(dir, { recursive: true });
    const config = readFileSync(path.join(prometheusDir, 'prometheus.yml'), 'utf8').replace(
      '/etc/prometheus/rules/*.yml',
      path.join(prometheusDir, 'rules', '*.yml'),
    );
    writeFileSync(path.join(dir, 'prometheus.yml'), config);
    const result = promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(result.output).toMatch(/SUCCESS: 2 rule files found/);
    expect(result.status).toBe(0);
  });

  it('passes promtool check rules', () => {
    const rules = readdirSync(path.join(prometheusDir, 'rules')).map((f) => path.join(prometheusDir, 'rules', f));
    expect(rules.length).toBe(2);
    const result = promtool(['check', 'rules', ...rules]);
    expect(result.output).not.toMatch(/FAILED/);
    expect(result.status).toBe(0);
  });

  it('fires each alert on the situation it names (promtool test rules)', () => {
    const result = promtool(['test', 'rules', 'fairway-alerts.test.yml'], { cwd: path.join(prometheusDir, 'tests') });
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('alerts on a starving tenant, a tenant pinned at quota, ingest lag and dead-letter growth', () => {
    const groups = parse(readFileSync(path.join(prometheusDir, 'rules', 'fairway-alerts.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
    };
    const alerts = groups.groups.flatMap((g) => g.rules).map((r) => r.alert);
    expect(alerts).toEqual(expect.arrayContaining(['FairwayTenantStarving', 'FairwayTenantPinnedAtQuota', 'FairwayIngestLag', 'FairwayDeadLetterGrowth']));
  });
});

describe('Grafana dashboards', () => {
  const dir = path.join(root, 'deploy', 'grafana', 'dashboards');
  const dashboards = readdirSync(dir).map((file) => ({ file, json: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Dashboard }));
  interface Dashboard {
    uid: string;
    title: string;
    panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string; query: { query: string } | string }> };
  }
  const recorded = new Set(
    (parse(readFileSync(path.join(prometheusDir, 'rules', 'fairway-recording.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ record: string }> }> }).groups
      .flatMap((g) => g.rules)
      .map((r) => r.record),
  );

  it('ships the fleet, tenant, scheduler/worker health and Kafka lag dashboards, with unique uids', () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual(['fleet-overview.json', 'kafka-lag.json', 'scheduler-worker-health.json', 'tenant.json']);
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
  });

  it('queries only metrics the services expose and series the recording rules make', () => {
    const unknown: string[] = [];
    for (const { file, json } of dashboards) {
      for (const panel of json.panels.filter((p) => p.type !== 'row')) {
        expect(panel.targets?.length).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          for (const name of metricNames(target.expr)) if (!KNOWN_METRICS.has(name) && !recorded.has(name)) unknown.push(`${file} "${panel.title}": ${name}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('has a tenant variable on the tenant page, used by every panel', () => {
    const tenant = dashboards.find((d) => d.file === 'tenant.json')?.json;
    expect(tenant?.templating.list.map((v) => v.name)).toEqual(['tenant']);
    const panels = tenant?.panels.filter((p) => p.type !== 'row') ?? [];
    expect(panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Queue depth',
        'In flight vs max_in_flight quota',
        'Wait p50 / p99 (accepted to started)',
        'Throttles /s by reason',
        'Share vs entitlement',
      ]),
    );
    for (const panel of panels) for (const target of panel.targets ?? []) expect(target.expr).toContain('tenant="$tenant"');
  });
});

describe('docker-compose.yml', () => {
  it('is valid for `docker compose config` and runs every service with a health check', () => {
    // The services' credentials are env files and a compose secret under .fairway/compose: make
    // sure they exist (kept when they do), as the compose header tells a developer to.
    const secrets = spawnSync(process.execPath, [path.join(root, 'scripts', 'compose-secrets.cjs')], { cwd: root, encoding: 'utf8' });
    expect(secrets.status).toBe(0);
    const compose = composeCommand();
    const run = spawnSync(compose[0] as string, [...compose.slice(1), '-f', path.join(root, 'docker-compose.yml'), 'config'], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).not.toMatch(/invalid|error/i);
    expect(run.status).toBe(0);
    const config = parse(run.stdout) as {
      services: Record<string, { image?: string; healthcheck?: unknown; command?: string[]; depends_on?: Record<string, { condition: string }> }>;
    };
    const services = config.services;
    expect(Object.keys(services).sort()).toEqual(
      [
        'control-plane',
        'edge',
        'grafana',
        'init',
        'jaeger',
        'kafka',
        'otel-collector',
        'postgres',
        'prometheus',
        'redis',
        'scheduler',
        'worker-1',
        'worker-2',
      ].sort(),
    );
    expect(services['kafka']?.image).toBe('apache/kafka:3.9.1');
    expect(services['postgres']?.image).toBe('postgres:15');
    expect(services['redis']?.image).toBe('redis:7');
    for (const name of ['kafka', 'postgres', 'redis', 'prometheus', 'grafana', 'control-plane', 'worker-1', 'worker-2', 'scheduler', 'edge']) {
      expect({ name, healthcheck: Boolean(services[name]?.healthcheck) }).toEqual({ name, healthcheck: true });
    }
    for (const name of ['control-plane', 'worker-1', 'worker-2', 'scheduler', 'edge']) {
      const service = name.replace(/-\d$/, '');
      // The V8 heap flags of `npm run up` (SERVICE_NODE_FLAGS), the same in every way the services are run.
      expect(services[name]?.command).toEqual(['node', ...(SERVICE_NODE_FLAGS[service] ?? []), `dist/services/${service}/src/main.js`]);
      expect(services[name]?.depends_on?.['init']?.condition).toBe('service_completed_successfully');
    }
    expect(services['init']?.command).toEqual(['node', 'scripts/deploy-init.cjs']);
  });
});

describe('Kubernetes manifests', () => {
  const dir = path.join(root, 'deploy', 'k8s');
  const documents = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((doc) => {
        expect(doc.errors).toEqual([]);
        return { file, manifest: doc.toJS() as { kind: string; apiVersion: string; metadata: { name: string }; spec?: Record<string, unknown> } };
      }),
    );
  const ofKind = (kind: string) => documents.filter((d) => d.manifest.kind === kind).map((d) => d.manifest);

  it('parses, and has only the kinds we ship', () => {
    const kinds = new Set(documents.map((d) => d.manifest.kind));
    // No Secret: credentials and certificates are the operator's (01-config.yaml says how), never a shipped default.
    expect([...kinds].sort()).toEqual([
      'ConfigMap',
      'CronJob',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Job',
      'Namespace',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'PodDisruptionBudget',
      'Service',
    ]);
    for (const { manifest } of documents) {
      expect(manifest.apiVersion).toEqual(expect.any(String));
      expect(manifest.metadata.name).toEqual(expect.any(String));
    }
  });

  it('gives every Deployment container readiness and liveness probes and resource requests and limits', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['fairway-control-plane', 'fairway-edge', 'fairway-scheduler', 'fairway-worker']);
    for (const deployment of deployments) {
      const containers = (deployment.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers;
      for (const c of containers) {
        const resources = c['resources'] as { requests?: Record<string, string>; limits?: Record<string, string> } | undefined;
        expect({ deployment: deployment.metadata.name, readiness: Boolean(c['readinessProbe']), liveness: Boolean(c['livenessProbe']) }).toEqual({
          deployment: deployment.metadata.name,
          readiness: true,
          liveness: true,
        });
        expect(resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
        expect(resources?.limits).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
      }
    }
  });

  it('runs each service with the V8 heap flags of `npm run up` (SERVICE_NODE_FLAGS)', () => {
    for (const deployment of ofKind('Deployment')) {
      const service = deployment.metadata.name.replace(/^fairway-/, '');
      const containers = (deployment.spec as { template: { spec: { containers: Array<{ command?: string[] }> } } }).template.spec.containers;
      expect({ deployment: deployment.metadata.name, command: containers[0]?.command }).toEqual({
        deployment: deployment.metadata.name,
        command: ['node', ...(SERVICE_NODE_FLAGS[service] ?? []), `dist/services/${service}/src/main.js`],
      });
    }
  });

  it('autoscales the workers and protects every Deployment with a PodDisruptionBudget', () => {
    const hpa = ofKind('HorizontalPodAutoscaler');
    expect(hpa).toHaveLength(1);
    expect((hpa[0]?.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).toBe('fairway-worker');
    const protectedApps = ofKind('PodDisruptionBudget').map(
      (p) => (p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['app.kubernetes.io/name'],
    );
    expect(protectedApps.sort()).toEqual(
      ofKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    );
  });
});
