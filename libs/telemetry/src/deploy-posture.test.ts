import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';

/*
 * What we ship must be safe as shipped (issue #16): the Kubernetes manifests in deploy/k8s and
 * docker-compose.yml are read as data and held to the posture docs/operations.md promises. Pure:
 * no cluster, no Docker engine (the integration tier runs `docker compose config` as well).
 */

/* eslint-disable @typescript-eslint/no-require-imports -- the deployment scripts are plain CommonJS */
const { rolePasswords } = require('../../../scripts/lib/role-passwords.cjs') as {
  rolePasswords: (env: Record<string, string | undefined>) => Record<string, string>;
};
const { envFiles } = require('../../../scripts/compose-secrets.cjs') as {
  envFiles: (credentials: Record<string, string>) => Record<string, string>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const root = path.resolve(__dirname, '../../..');
const k8sDir = path.join(root, 'deploy', 'k8s');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; secret?: { secretName: string }; emptyDir?: Record<string, unknown> }>;
}
interface NetworkPolicySpec {
  podSelector: Selector;
  policyTypes?: string[];
  ingress?: Array<{ from?: Array<{ podSelector?: Selector; namespaceSelector?: Selector }>; ports?: Array<{ port?: number | string }> }>;
}

function loadManifests(): Array<{ file: string; manifest: Manifest }> {
  return readdirSync(k8sDir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(k8sDir, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return { file, manifest: doc.toJS() as Manifest };
      }),
    );
}

/** The model class for each kind we ship; a kind missing here fails the schema test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/** Throws the validator's message when `manifest` does not match its kind's schema. */
function validateManifest(manifest: Manifest): void {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion}/${manifest.kind}`);
  new Model(manifest as never).validate();
}

/** Every workload's pod template, named by its object. */
function podTemplates(manifests: Manifest[]): Array<{ name: string; labels: Record<string, string>; pod: PodSpec }> {
  return manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'Job' || m.kind === 'CronJob')
    .map((m) => {
      type Template = { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
      const template =
        m.kind === 'CronJob'
          ? (m.spec as { jobTemplate: { spec: { template: Template } } }).jobTemplate.spec.template
          : (m.spec as { template: Template }).template;
      return { name: m.metadata.name, labels: template.metadata?.labels ?? {}, pod: template.spec };
    });
}

/** Every string leaf of a parsed document (values, never keys). */
function stringValues(node: unknown, at = ''): Array<{ at: string; value: string }> {
  if (typeof node === 'string') return [{ at, value: node }];
  if (Array.isArray(node)) return node.flatMap((item, i) => stringValues(item, `${at}[${i}]`));
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => stringValues(v, `${at}.${k}`));
  return [];
}

function matchesSelector(selector: Selector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const ok =
      operator === 'In'
        ? has && values.includes(labels[key] as string)
        : operator === 'NotIn'
          ? !has || !values.includes(labels[key] as string)
          : operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

/** Where a connection comes from: a pod's namespace (and its labels) and the pod's labels. */
interface Source {
  namespace: string;
  namespaceLabels?: Record<string, string>;
  podLabels?: Record<string, string>;
}

/**
 * Whether the NetworkPolicies admit `source` to `port` of pods labelled `target` in the fairway
 * namespace, by the rules of networking.k8s.io/v1: a pod no Ingress policy selects admits all; a
 * selected pod admits what any rule of any selecting policy admits.
 */
function ingressAllowed(policies: NetworkPolicySpec[], target: Record<string, string>, port: number, source: Source): boolean {
  const selecting = policies.filter((p) => (p.policyTypes ?? ['Ingress']).includes('Ingress') && matchesSelector(p.podSelector, target));
  if (selecting.length === 0) return true;
  const namespaceLabels = { 'kubernetes.io/metadata.name': source.namespace, ...(source.namespaceLabels ?? {}) };
  return selecting.some((policy) =>
    (policy.ingress ?? []).some((rule) => {
      const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((p) => p.port === undefined || p.port === port);
      const fromOk =
        !rule.from ||
        rule.from.length === 0 ||
        rule.from.some((peer) => {
          const nsOk = peer.namespaceSelector ? matchesSelector(peer.namespaceSelector, namespaceLabels) : source.namespace === 'fairway';
          const podOk = peer.podSelector ? matchesSelector(peer.podSelector, source.podLabels ?? {}) : true;
          return nsOk && podOk;
        });
      return portOk && fromOk;
    }),
  );
}

/**
 * The development defaults this repository publishes: every string literal in the sources that
 * reads like a placeholder secret ('...change-me...', 'fairway-development-...'), and the database
 * role names (a role's name is its development password).
 */
function publishedDefaults(): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', 'dist', 'generated'].includes(entry.name)) continue;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(ts|cjs|js)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
        for (const m of readFileSync(file, 'utf8').matchAll(/['"`]([^'"`\s]*(?:change-?me|fairway-development-)[^'"`\s]*)['"`]/gi)) found.add(m[1] as string);
      }
    }
  };
  for (const dir of ['libs', 'services', 'scripts']) walk(path.join(root, dir));
  for (const m of readFileSync(path.join(root, 'libs', 'db', 'src', 'roles.ts'), 'utf8').matchAll(/:\s*'(fairway_[a-z]+)'/g)) found.add(m[1] as string);
  return [...found];
}

/** A connection URL that carries a password: `scheme://user:password@host`. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s/]+@/i;
/** Values that mark a credential someone forgot to replace. */
const PLACEHOLDER = /change-?me|change-?it|replace-?me|placeholder|^(password|passwd|secret|s3cr3t)$/i;

describe('Kubernetes manifests (deploy/k8s) as shipped', () => {
  const documents = loadManifests();
  const manifests = documents.map((d) => d.manifest);
  const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const pods = podTemplates(manifests);
  const pod = (name: string) => {
    const found = pods.find((p) => p.name === name);
    if (!found) throw new Error(`no workload ${name}`);
    return found;
  };
  const envOf = (name: string) => pod(name).pod.containers.flatMap((c) => c.env ?? []);
  const policies = ofKind('NetworkPolicy').map((p) => p.spec as unknown as NetworkPolicySpec);

  it('validates every object against its Kubernetes schema', () => {
    expect(documents.length).toBeGreaterThan(10);
    const invalid: string[] = [];
    for (const { file, manifest } of documents) {
      try {
        validateManifest(manifest);
      } catch (err) {
        invalid.push(`${file} ${manifest.kind}/${manifest.metadata?.name}: ${(err as Error).message}`);
      }
    }
    expect(invalid).toEqual([]);
  });

  it('rejects an object that breaks its schema (the validator is live)', () => {
    const deployment = structuredClone(ofKind('Deployment')[0]) as Manifest;
    (deployment.spec as { replicas: unknown }).replicas = 'two';
    expect(() => validateManifest(deployment)).toThrow(/replicas must be integer/);
    const policy = structuredClone(ofKind('NetworkPolicy')[0]) as Manifest;
    (policy.spec as { policyTypes: unknown }).policyTypes = 'Ingress';
    expect(() => validateManifest(policy)).toThrow(/policyTypes/);
  });

  it("ships no Secret: credentials, keys and certificates are the operator's", () => {
    expect(ofKind('Secret')).toEqual([]);
  });

  it('ships the audit checkpoints: one writer a minute, read-only database role, the signing key from a Secret, the file on its own volume', () => {
    const cron = ofKind('CronJob').find((m) => m.metadata.name === 'fairway-audit-checkpoint');
    expect(cron).toBeDefined();
    const spec = cron!.spec as { schedule: string; concurrencyPolicy: string };
    expect({ schedule: spec.schedule, concurrencyPolicy: spec.concurrencyPolicy }).toEqual({ schedule: '* * * * *', concurrencyPolicy: 'Forbid' });
    const pod = pods.find((p) => p.name === 'fairway-audit-checkpoint')!.pod;
    const env = (pod.containers[0] as unknown as { env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> })
      .env;
    expect(env.find((e) => e.name === 'AUDIT_DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'fairway-database', key: 'APP_URL' });
    expect(env.find((e) => e.name === 'AUDIT_CHECKPOINT_KEY')?.valueFrom?.secretKeyRef?.name).toBe('fairway-audit-checkpoint');
    expect(env.find((e) => e.name === 'AUDIT_CHECKPOINT_KEY')?.value).toBeUndefined();
    expect(JSON.stringify(pod.volumes)).toContain('fairway-audit-checkpoints');
  });

  it('runs every pod as a non-root user, without a service-account token, under seccomp RuntimeDefault', () => {
    expect(pods.map((p) => p.name).sort()).toEqual([
      'fairway-audit-checkpoint',
      'fairway-control-plane',
      'fairway-edge',
      'fairway-init',
      'fairway-scheduler',
      'fairway-worker',
    ]);
    for (const { name, pod: spec } of pods) {
      const sc = spec.securityContext ?? {};
      expect({ name, automount: spec.automountServiceAccountToken, runAsNonRoot: sc.runAsNonRoot, seccomp: sc.seccompProfile?.type }).toEqual({
        name,
        automount: false,
        runAsNonRoot: true,
        seccomp: 'RuntimeDefault',
      });
      expect({ name, user: (sc.runAsUser ?? 0) > 0, group: (sc.runAsGroup ?? 0) > 0 }).toEqual({ name, user: true, group: true });
    }
  });

  it('runs every container read-only, without privilege escalation, with every capability dropped', () => {
    for (const { name, pod: spec } of pods) {
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const sc = c.securityContext ?? {};
        expect({
          container: `${name}/${c.name}`,
          allowPrivilegeEscalation: sc.allowPrivilegeEscalation,
          readOnlyRootFilesystem: sc.readOnlyRootFilesystem,
          privileged: sc.privileged ?? false,
          dropsAll: sc.capabilities?.drop?.includes('ALL') ?? false,
          adds: sc.capabilities?.add ?? [],
          rootUser: sc.runAsUser === 0,
        }).toEqual({
          container: `${name}/${c.name}`,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          dropsAll: true,
          adds: [],
          rootUser: false,
        });
        // Read-only root: /tmp (the swc cache, Node's scratch files) is an emptyDir.
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect({ container: `${name}/${c.name}`, tmpIsEmptyDir: Boolean(tmp && spec.volumes?.find((v) => v.name === tmp.name)?.emptyDir) }).toEqual({
          container: `${name}/${c.name}`,
          tmpIsEmptyDir: true,
        });
        expect(c.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
        expect(c.resources?.limits).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
      }
    }
  });

  it("mounts each gRPC Deployment's own TLS Secret where FAIRWAY_TLS_CA/CERT/KEY point", () => {
    const services = { 'fairway-control-plane': 'control-plane', 'fairway-worker': 'worker', 'fairway-scheduler': 'scheduler', 'fairway-edge': 'edge' };
    for (const [deployment, service] of Object.entries(services)) {
      const { pod: spec } = pod(deployment);
      const volume = spec.volumes?.find((v) => v.secret?.secretName === `fairway-tls-${service}`);
      expect({ deployment, secret: volume?.secret?.secretName }).toEqual({ deployment, secret: `fairway-tls-${service}` });
      for (const c of spec.containers) {
        const mount = c.volumeMounts?.find((m) => m.name === volume?.name);
        expect({ deployment, readOnly: mount?.readOnly }).toEqual({ deployment, readOnly: true });
        for (const variable of ['FAIRWAY_TLS_CA', 'FAIRWAY_TLS_CERT', 'FAIRWAY_TLS_KEY']) {
          const value = c.env?.find((e) => e.name === variable)?.value ?? '';
          expect({ deployment, variable, underMount: Boolean(mount) && value.startsWith(`${mount?.mountPath}/`) }).toEqual({
            deployment,
            variable,
            underMount: true,
          });
        }
      }
    }
  });

  it('sets no insecure flag: no FAIRWAY_GRPC_INSECURE anywhere, HS256 only with a secret from a Secret', () => {
    const configData = ofKind('ConfigMap').flatMap((m) => Object.entries(m.data ?? {}).map(([name, value]) => ({ where: m.metadata.name, name, value })));
    const env = pods.flatMap(({ name, pod: spec }) => spec.containers.flatMap((c) => (c.env ?? []).map((e) => ({ where: name, ...e }))));
    expect([...configData, ...env].filter((e) => e.name === 'FAIRWAY_GRPC_INSECURE')).toEqual([]);
    for (const { name, pod: spec } of pods) {
      for (const c of spec.containers) {
        for (const prefix of ['JWT_', 'OPERATOR_JWT_']) {
          const hs256 = c.env?.find((e) => e.name === `${prefix}HS256`);
          if (hs256?.value !== 'true') continue;
          const secret = c.env?.find((e) => e.name === `${prefix}SECRET`);
          expect({ container: `${name}/${c.name}`, secretFromSecret: Boolean(secret?.valueFrom?.secretKeyRef) }).toEqual({
            container: `${name}/${c.name}`,
            secretFromSecret: true,
          });
        }
      }
    }
    expect(configData.filter((e) => /HS256$/.test(e.name) && e.value === 'true')).toEqual([]);
  });

  it('takes every credential from a Secret, never a literal value', () => {
    const credential = /SECRET|PASSWORD|PASSWD|TOKEN|KEK|PRIVATE|DATABASE_URL|^(ADMIN|OWNER|APP|SCHEDULER)_URL$/;
    const literal = pods.flatMap(({ name, pod: spec }) =>
      spec.containers.flatMap((c) => (c.env ?? []).filter((e) => credential.test(e.name) && !e.valueFrom?.secretKeyRef).map((e) => `${name}: ${e.name}`)),
    );
    expect(literal).toEqual([]);
    const inConfig = ofKind('ConfigMap').flatMap((m) =>
      Object.keys(m.data ?? {})
        .filter((k) => credential.test(k))
        .map((k) => `${m.metadata.name}: ${k}`),
    );
    expect(inConfig).toEqual([]);
  });

  it('contains no password, development default or placeholder in any value', () => {
    const defaults = publishedDefaults();
    // The scan must find what the repository publishes, or this test proves nothing.
    expect(defaults).toEqual(expect.arrayContaining(['fairway-development-secret-change-me-0123456789', 'fairway_owner', 'fairway_app', 'fairway_scheduler']));
    const found: string[] = [];
    for (const { file, manifest } of documents) {
      for (const { at, value } of stringValues(manifest)) {
        const where = `${file} ${manifest.kind}/${manifest.metadata.name}${at}`;
        if (URL_WITH_PASSWORD.test(value)) found.push(`${where}: a URL with a password`);
        if (PLACEHOLDER.test(value)) found.push(`${where}: a placeholder '${value}'`);
        // Role names are legitimate values (a role to connect as), never as a password: checked above.
        const published = defaults.filter((d) => !/^fairway_[a-z]+$/.test(d)).find((d) => value.includes(d));
        if (published) found.push(`${where}: the published default '${published}'`);
      }
    }
    expect(found).toEqual([]);
  });

  it('keeps the owner role and the KEK on the control plane: not on the edge, not on the workers', () => {
    const refersTo = (name: string) => {
      const containers = pod(name).pod.containers;
      return {
        secretKeys: containers.flatMap((c) =>
          (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`] : [])),
        ),
        secrets: containers.flatMap((c) => (c.envFrom ?? []).flatMap((e) => (e.secretRef ? [e.secretRef.name] : []))),
        names: containers.flatMap((c) => (c.env ?? []).map((e) => e.name)),
      };
    };
    const edge = refersTo('fairway-edge');
    expect(edge.secretKeys).toEqual(['fairway-database/APP_URL']);
    expect(edge.secrets).toEqual([]);
    expect(edge.names.filter((n) => /KEK|OWNER|ADMIN/.test(n))).toEqual([]);
    expect(envOf('fairway-edge').find((e) => e.name === 'KEY_SERVICE_ADDRESS')?.value).toBe('control-plane.fairway.svc.cluster.local:7051');

    const worker = refersTo('fairway-worker');
    expect(worker.secretKeys).toEqual(['fairway-database/APP_URL']);
    expect(worker.secrets).toEqual([]);
    expect(worker.names.filter((n) => /KEK/.test(n))).toEqual([]);
    expect(envOf('fairway-worker').find((e) => e.name === 'KEY_SERVICE_ADDRESS')?.value).toBe('control-plane.fairway.svc.cluster.local:7051');

    const controlPlane = refersTo('fairway-control-plane');
    expect(controlPlane.secrets).toEqual(['fairway-kek']);
    expect(controlPlane.secretKeys.sort()).toEqual(['fairway-database/APP_URL', 'fairway-database/OWNER_URL']);
    const cpEnv = envOf('fairway-control-plane');
    expect(cpEnv.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.key).toBe('OWNER_URL');
    expect(cpEnv.find((e) => e.name === 'APP_DATABASE_URL')?.valueFrom?.secretKeyRef?.key).toBe('APP_URL');

    // Who else may see the owner role or the KEK: only the init Job, which sets the roles' passwords.
    const withOwner = pods.filter((p) => refersTo(p.name).secretKeys.includes('fairway-database/OWNER_URL')).map((p) => p.name);
    expect(withOwner.sort()).toEqual(['fairway-control-plane', 'fairway-init']);
    expect(pods.filter((p) => refersTo(p.name).secrets.includes('fairway-kek')).map((p) => p.name)).toEqual(['fairway-control-plane']);
  });

  it('serves the admin API from the control plane through a ClusterIP Service, and nothing from the edge but :8080 and metrics', () => {
    const services = ofKind('Service').map((s) => ({
      name: s.metadata.name,
      spec: s.spec as { type?: string; selector: Record<string, string>; ports: Array<{ port: number }> },
    }));
    expect(services.map((s) => s.name)).not.toContain('edge-admin');
    const admin = services.find((s) => s.name === 'admin');
    expect(admin?.spec.selector['app.kubernetes.io/name']).toBe('fairway-control-plane');
    expect(admin?.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(admin?.spec.ports.map((p) => p.port)).toEqual([8081]);
    expect(ofKind('Ingress')).toEqual([]);
    expect(envOf('fairway-control-plane').find((e) => e.name === 'ADMIN_PORT')?.value).toBe('8081');
    expect(
      pod('fairway-edge')
        .pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort))
        .sort(),
    ).toEqual([8080, 9464]);
    expect(
      envOf('fairway-edge')
        .map((e) => e.name)
        .filter((n) => n.startsWith('EDGE_ADMIN')),
    ).toEqual([]);
  });

  it('verifies tenant and operator tokens with JWKS in production', () => {
    const edge = envOf('fairway-edge');
    expect(edge.find((e) => e.name === 'JWT_HS256')?.value).toBe('false');
    expect(edge.find((e) => e.name === 'JWT_JWKS_URL')?.valueFrom?.configMapKeyRef).toEqual({ name: 'fairway-auth', key: 'JWT_JWKS_URL' });
    expect(edge.find((e) => e.name === 'JWT_SECRET')).toBeUndefined();
    const cp = envOf('fairway-control-plane');
    expect(cp.find((e) => e.name === 'OPERATOR_JWT_JWKS_URL')?.valueFrom?.configMapKeyRef).toEqual({ name: 'fairway-auth', key: 'OPERATOR_JWT_JWKS_URL' });
    expect(cp.find((e) => e.name === 'OPERATOR_JWT_ISSUER')?.value).toBe('fairway-operators');
    expect(cp.find((e) => e.name === 'OPERATOR_JWT_AUDIENCE')?.value).toBe('fairway-admin');
    // The ConfigMap with the JWKS URLs is the operator's: shipping one would ship a placeholder URL.
    expect(ofKind('ConfigMap').map((m) => m.metadata.name)).toEqual(['fairway-config']);
  });

  it('denies ingress by default in the namespace', () => {
    const defaultDeny = policies.filter(
      (p) => Object.keys(p.podSelector).length === 0 && (p.policyTypes ?? []).includes('Ingress') && (p.ingress ?? []).length === 0,
    );
    expect(defaultDeny).toHaveLength(1);
    expect(ingressAllowed(policies, { 'app.kubernetes.io/name': 'something-else' }, 80, { namespace: 'fairway', podLabels: {} })).toBe(false);
  });

  const label = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'fairway' });
  const from = {
    edge: { namespace: 'fairway', podLabels: label('fairway-edge') },
    worker: { namespace: 'fairway', podLabels: label('fairway-worker') },
    scheduler: { namespace: 'fairway', podLabels: label('fairway-scheduler') },
    controlPlane: { namespace: 'fairway', podLabels: label('fairway-control-plane') },
    init: { namespace: 'fairway', podLabels: label('fairway-init') },
    operatorPod: { namespace: 'fairway', podLabels: { 'fairway.dev/operator': 'true' } },
    operatorNamespace: { namespace: 'ops', namespaceLabels: { 'fairway.dev/operator': 'true' }, podLabels: { app: 'tenantctl' } },
    labelledPodElsewhere: { namespace: 'tenant-apps', podLabels: { 'fairway.dev/operator': 'true' } },
    ingressController: { namespace: 'ingress-nginx', podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
    prometheus: { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    stranger: { namespace: 'fairway', podLabels: { app: 'debug-shell' } },
  } satisfies Record<string, Source>;
  type From = keyof typeof from;
  const reachability: Array<[target: string, port: number, allowed: From[], denied: From[]]> = [
    ['fairway-edge', 8080, ['ingressController', 'stranger', 'prometheus'], []],
    ['fairway-edge', 9464, ['prometheus'], ['ingressController', 'stranger', 'worker']],
    [
      'fairway-control-plane',
      7051,
      ['edge', 'worker', 'scheduler', 'operatorPod', 'operatorNamespace'],
      ['stranger', 'ingressController', 'labelledPodElsewhere', 'init'],
    ],
    [
      'fairway-control-plane',
      8081,
      ['operatorPod', 'operatorNamespace'],
      ['edge', 'worker', 'scheduler', 'stranger', 'ingressController', 'labelledPodElsewhere'],
    ],
    ['fairway-scheduler', 7071, ['controlPlane', 'operatorPod', 'operatorNamespace'], ['edge', 'worker', 'stranger', 'ingressController']],
    ['fairway-scheduler', 9464, ['prometheus'], ['edge', 'stranger']],
    ['fairway-worker', 7061, ['scheduler'], ['edge', 'controlPlane', 'operatorPod', 'stranger', 'ingressController']],
    ['fairway-worker', 9464, ['prometheus'], ['edge', 'stranger']],
  ];
  it.each(reachability)('admits to %s:%d only the pods that call it', (target, port, allowed, denied) => {
    const verdicts = (sources: From[]) => Object.fromEntries(sources.map((s) => [s, ingressAllowed(policies, label(target), port, from[s])]));
    expect(verdicts(allowed)).toEqual(Object.fromEntries(allowed.map((s) => [s, true])));
    expect(verdicts(denied)).toEqual(Object.fromEntries(denied.map((s) => [s, false])));
  });

  it('lets Fairway pods, and the init Job, reach Kafka and Redis when they run in the namespace', () => {
    expect(ingressAllowed(policies, { 'app.kubernetes.io/name': 'kafka' }, 9092, from.init)).toBe(true);
    expect(ingressAllowed(policies, { 'app.kubernetes.io/name': 'redis' }, 6379, from.edge)).toBe(true);
    expect(ingressAllowed(policies, { 'app.kubernetes.io/name': 'kafka' }, 9092, from.stranger)).toBe(false);
  });
});

describe('docker-compose.yml as shipped', () => {
  interface ComposeService {
    image?: string;
    user?: string;
    read_only?: boolean;
    tmpfs?: string[];
    cap_drop?: string[];
    security_opt?: string[];
    env_file?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    secrets?: string[];
  }
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
    secrets?: Record<string, { file: string }>;
  };
  const services = compose.services;
  const fairway = Object.entries(services).filter(([, s]) => s.image === 'fairway:local');
  const credentials = {
    postgres: 'p'.repeat(43),
    fairway_owner: 'o'.repeat(43),
    fairway_app: 'a'.repeat(43),
    fairway_scheduler: 's'.repeat(43),
    kek: 'k'.repeat(44),
  };
  const generated = envFiles(credentials);
  /** The variables a service gets from its env files (as compose-secrets.cjs writes them). */
  const fromEnvFiles = (name: string): Record<string, string> =>
    Object.fromEntries(
      (services[name]?.env_file ?? []).flatMap((file) => {
        const content = generated[path.basename(file)];
        if (content === undefined) throw new Error(`${name}: ${file} is not written by scripts/compose-secrets.cjs`);
        return content
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
      }),
    );

  it('runs every Fairway container as a non-root user, read-only with a tmpfs /tmp, without capabilities', () => {
    expect(fairway.map(([name]) => name).sort()).toEqual(['control-plane', 'edge', 'init', 'scheduler', 'worker-1', 'worker-2']);
    for (const [name, s] of fairway) {
      const user = (s.user ?? 'root').split(':')[0];
      expect({
        name,
        nonRoot: user !== 'root' && user !== '0' && user !== '',
        readOnly: s.read_only,
        tmp: s.tmpfs?.some((t) => t.startsWith('/tmp')),
        capDrop: s.cap_drop,
        noNewPrivileges: s.security_opt,
      }).toEqual({
        name,
        nonRoot: true,
        readOnly: true,
        tmp: true,
        capDrop: ['ALL'],
        noNewPrivileges: ['no-new-privileges:true'],
      });
    }
  });

  it('writes no password and no insecure flag into the file; PostgreSQL reads its password from a compose secret', () => {
    const found: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(s.environment ?? {})) {
        if (variable === 'FAIRWAY_GRPC_INSECURE') found.push(`${name}: ${variable}`);
        if (URL_WITH_PASSWORD.test(String(value))) found.push(`${name}: ${variable} has a URL with a password`);
        if (/PASSWORD$|SECRET$|^FAIRWAY_KEK_/.test(variable)) found.push(`${name}: ${variable} is a literal credential`);
      }
    }
    expect(found).toEqual([]);
    expect(services['postgres']?.environment?.['POSTGRES_PASSWORD_FILE']).toBe('/run/secrets/postgres-password');
    expect(services['postgres']?.secrets).toEqual(['postgres-password']);
    expect(compose.secrets?.['postgres-password']?.file).toBe('./.fairway/compose/postgres-password.txt');
  });

  it('gives each role a generated password, never its name, and each service only its own role', () => {
    const user = (url: string | undefined) => (url ? decodeURIComponent(new URL(url).username) : undefined);
    expect(user(fromEnvFiles('edge')['DATABASE_URL'])).toBe('fairway_app');
    expect(user(fromEnvFiles('worker-1')['DATABASE_URL'])).toBe('fairway_app');
    expect(user(fromEnvFiles('worker-2')['DATABASE_URL'])).toBe('fairway_app');
    expect(user(fromEnvFiles('scheduler')['DATABASE_URL'])).toBe('fairway_scheduler');
    expect(user(fromEnvFiles('control-plane')['DATABASE_URL'])).toBe('fairway_owner');
    expect(user(fromEnvFiles('control-plane')['APP_DATABASE_URL'])).toBe('fairway_app');
    // The init service sets the roles' passwords from the very URLs the services use.
    expect(rolePasswords(fromEnvFiles('init'))).toEqual({
      fairway_owner: credentials.fairway_owner,
      fairway_app: credentials.fairway_app,
      fairway_scheduler: credentials.fairway_scheduler,
    });
    for (const [name] of fairway) {
      for (const [variable, value] of Object.entries(fromEnvFiles(name))) {
        if (!value.startsWith('postgres://')) continue;
        const url = new URL(value);
        expect({ name, variable, passwordIsRoleName: url.password === url.username || url.password === '' }).toEqual({
          name,
          variable,
          passwordIsRoleName: false,
        });
      }
    }
  });

  it('keeps the owner role, the KEK and the admin API off the edge, and the KEK off the workers', () => {
    const edge = { ...services['edge']?.environment, ...fromEnvFiles('edge') };
    expect(Object.keys(edge).filter((k) => /KEK|OWNER|EDGE_ADMIN|^ADMIN_/.test(k))).toEqual([]);
    expect(Object.values(edge).filter((v) => String(v).includes('fairway_owner'))).toEqual([]);
    expect(services['edge']?.ports?.some((p) => p.endsWith(':8081'))).toBe(false);
    expect(edge['KEY_SERVICE_ADDRESS']).toBe('control-plane:7051');
    for (const worker of ['worker-1', 'worker-2']) {
      const env = { ...services[worker]?.environment, ...fromEnvFiles(worker) };
      expect({ worker, kek: Object.keys(env).filter((k) => /KEK/.test(k)), keyService: env['KEY_SERVICE_ADDRESS'] }).toEqual({
        worker,
        kek: [],
        keyService: 'control-plane:7051',
      });
    }
    const cp = { ...services['control-plane']?.environment, ...fromEnvFiles('control-plane') };
    expect(cp['ADMIN_PORT']).toBe('8081');
    expect(cp['FAIRWAY_KEK_V1']).toBe(credentials.kek);
    expect(services['control-plane']?.ports).toEqual(['127.0.0.1:8081:8081']);
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const open = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).filter((p) => !p.startsWith('127.0.0.1:')).map((p) => `${name}: ${p}`));
    expect(open).toEqual([]);
  });
});

describe('role passwords of a deployment (scripts/lib/role-passwords.cjs)', () => {
  const good = 'Zq3xv8N1wP0kR7tY2uL5mB9cD4eF6gH1';
  const urls = (overrides: Record<string, string> = {}) => ({
    OWNER_URL: `postgres://fairway_owner:${good}o@db:5432/fairway`,
    APP_URL: `postgres://fairway_app:${good}a@db:5432/fairway`,
    SCHEDULER_URL: `postgres://fairway_scheduler:${good}s@db:5432/fairway`,
    ...overrides,
  });

  it("reads each role's password from its URL", () => {
    expect(rolePasswords(urls())).toEqual({ fairway_owner: `${good}o`, fairway_app: `${good}a`, fairway_scheduler: `${good}s` });
  });

  it.each([
    ['a password equal to the role name', { OWNER_URL: 'postgres://fairway_owner:fairway_owner@db/fairway' }, /OWNER_URL is 13 characters/],
    [
      'a long password containing the role name',
      { APP_URL: 'postgres://fairway_app:fairway_app-fairway_app-x@db/fairway' },
      /APP_URL contains the role's name/,
    ],
    ['a placeholder', { APP_URL: 'postgres://fairway_app:please-change-me-0123456789@db/fairway' }, /placeholder/],
    ['no password', { SCHEDULER_URL: 'postgres://fairway_scheduler@db/fairway' }, /SCHEDULER_URL is 0 characters/],
    ['another role', { APP_URL: `postgres://fairway_owner:${good}@db/fairway` }, /APP_URL must connect as fairway_app/],
    ['a missing URL', { OWNER_URL: '' }, /OWNER_URL is not set/],
    ['not a URL', { OWNER_URL: 'fairway_owner' }, /OWNER_URL is not a URL/],
  ])('refuses %s', (_case, overrides, message) => {
    expect(() => rolePasswords(urls(overrides))).toThrow(message);
  });
});
