// Starts Fairway's services as real processes from dist/, with prefixed, readable logs, and waits
// until each says it is ready (a JSON log line with msg "ready": the edge is listening and its
// producer connected, the scheduler has joined its consumer group, a gRPC server is bound).
'use strict';
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const { root } = require('./bootstrap.cjs');

const COLORS = { edge: 36, scheduler: 35, 'worker-1': 33, 'worker-2': 32, 'control-plane': 34 };
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * The gRPC transport settings of each service: mutual TLS with development certificates
 * (generated once into .fairway/certs by scripts/lib/certs.cjs), unless FAIRWAY_GRPC_INSECURE=true
 * asks for plaintext explicitly (local debugging only).
 */
function transportEnv() {
  if (process.env.FAIRWAY_GRPC_INSECURE === 'true') return () => ({ FAIRWAY_GRPC_INSECURE: 'true' });
  const { ensureCerts, tlsEnv } = require('./certs.cjs');
  ensureCerts();
  return (service) => tlsEnv(service);
}

/**
 * Ports handed out below the kernel's ephemeral range. `listen(0)` picks from that range, and so does
 * every outgoing connection (Kafka, PostgreSQL, gRPC clients of the processes already running): a port
 * found free that way and passed to a child process can be taken by someone's outgoing socket before
 * the child binds it (CI saw `listen EADDRINUSE` on a worker's port). Below the range only listeners
 * compete, and this module never hands out the same port twice.
 */
const FREE_PORT_RANGE = [12000, 24000];
const handedOut = new Set();

/** The first port of the kernel's ephemeral range (32768 where it cannot be read). */
function ephemeralLow() {
  try {
    const [low] = require('node:fs').readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** Whether 127.0.0.1:port can be bound now. */
function bindable(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1, outside the ephemeral range (see FREE_PORT_RANGE). */
async function freePort() {
  const [low, high] = [FREE_PORT_RANGE[0], Math.min(FREE_PORT_RANGE[1], ephemeralLow())];
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port on 127.0.0.1 in ${low}-${high - 1} after 200 tries: free some, or stop leftover services (npm run down)`);
}

/** One pino JSON line as `HH:MM:SS LEVEL msg key=value ...`. */
function readable(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const { time, level, msg, service: _s, name: _n, pid: _p, hostname: _h, ...rest } = entry;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${clock} ${(LEVELS[level] ?? level).padEnd(5)} ${msg ?? ''}${fields ? `  ${fields}` : ''}`;
}

/**
 * V8 heap flags on the command line of the services whose memory must stay flat under steady load
 * (issue #18 part 3: every RSS sample of a 30-minute soak within +-15% of its 5-minute value). The
 * same flags are on these services' commands in docker-compose.yml and deploy/k8s (the
 * operations-manifests test holds both to this list). What they fix, found with --trace-gc-nvp and
 * heap statistics of the soak's processes (docs/benchmarks.md, "soak"):
 * - `--heap-growing-percent=10`: after a full collection the old generation may grow by 10% of what
 *   survived (plus V8's floor of 8 MB and the young generation's size) before the next one, instead
 *   of V8's dynamic factor (up to 4x). The edge promotes the requests in flight at each young
 *   collection (~20% of the young generation survives one and nearly all of that the next, ~1 MB/s
 *   at 30 commands/s per edge on a loaded host); with the dynamic factor its old generation climbed
 *   20-40 MB between full collections (the +27% sawtooth of the 30-minute run). The cost: more
 *   frequent full collections of a small heap (marking is mostly concurrent).
 * - a young generation of fixed size (`--min-semi-space-size` = `--max-semi-space-size`): V8 grows it
 *   under load, and shrinks it and uncommits its idle half whenever the allocation rate drops under
 *   ~1 MB/s, each step moving the RSS by the size of a semi-space at once. The worker allocates about
 *   that much under the soak's load, so its RSS jumped between two levels (the -28.9% sample of the
 *   30-minute run). The edge keeps V8's own maximum (16 MB; it allocates several MB/s, and a smaller
 *   young generation would promote more of its requests); the worker 8 MB, which halves the step.
 * - `--no-memory-reducer`: V8's memory reducer runs a memory-reducing full collection (compacting,
 *   releasing free pages and the young generation's idle half) when it judges the allocation rate
 *   low - on a quiet host, under the same steady load. In the 30-minute run of 2026-12-07 01:53 with the flags
 *   above, each edge had one such sample (151 -> 116 MB, back to 142-145 MB ten seconds later),
 *   -24%. With it off, the 30-minute run of 02:28 kept every edge and worker within 1.3% (docs/benchmarks.md).
 *   A service sized by its memory limit gains nothing from handing pages back for seconds.
 * @type {Record<string, string[]>}
 */
const SERVICE_NODE_FLAGS = {
  edge: ['--min-semi-space-size=16', '--max-semi-space-size=16', '--heap-growing-percent=10', '--no-memory-reducer'],
  worker: ['--min-semi-space-size=8', '--max-semi-space-size=8', '--heap-growing-percent=10', '--no-memory-reducer'],
};

/**
 * The service processes of one Fairway stack.
 * @param {{ brokers: string, urls: {owner: string, app: string, scheduler: string}, topicPrefix: string }} infra
 * @param {{ ports: Record<string, number>, metricsPorts?: Record<string, number>, prometheusUrl?: string, logLevel?: string, env?: Record<string,string>, nodeArgs?: string[] }} options
 *   `ports.console`: the control plane's operator console (CONSOLE_PORT); `prometheusUrl`: what the console charts from.
 *   `nodeArgs`: extra flags for every service's node, e.g. `--cpu-prof` (which NODE_OPTIONS refuses).
 */
function stackDefinition(infra, options) {
  const { ports } = options;
  const tls = transportEnv();
  const common = {
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    LOG_LEVEL: options.logLevel ?? 'info',
    KAFKA_BROKERS: infra.brokers,
    FAIRWAY_TOPIC_PREFIX: infra.topicPrefix,
    // The tenant cache's keys per stack, like its topics: a test stack and `npm run up` may share one
    // Redis and both have a tenant 'acme', whose cached values must never meet.
    REDIS_CACHE_PREFIX: `${infra.topicPrefix.replace(/[^A-Za-z0-9_-]/g, '-')}:cache:`,
    ...(options.env ?? {}),
  };
  const metrics = (name) => (options.metricsPorts?.[name] ? { METRICS_PORT: String(options.metricsPorts[name]) } : {});
  const workerAddresses = ['worker-1', 'worker-2'].map((w) => `127.0.0.1:${ports[w]}`).join(',');
  const nodeArgs = options.nodeArgs ?? [];
  const keyService = `127.0.0.1:${ports['control-plane']}`;
  return [
    {
      name: 'control-plane',
      entry: 'services/control-plane/src/main.js',
      nodeArgs,
      // The admin plane: the only process with the owner role and the key-encryption key (the
      // development KEK file, .fairway/keys/kek.json). It serves the admin API on ports.admin.
      env: {
        ...common,
        ...tls('control-plane'),
        ...metrics('control-plane'),
        DATABASE_URL: infra.urls.owner,
        APP_DATABASE_URL: infra.urls.app,
        // The edge's tenant cache: the control plane invalidates it on status changes and purges it on deletion.
        ...(infra.redisUrl ? { REDIS_URL: infra.redisUrl } : {}),
        CONTROL_PLANE_PORT: String(ports['control-plane']),
        ADMIN_PORT: String(ports.admin),
        ...(ports.console ? { CONSOLE_PORT: String(ports.console) } : {}),
        ...(options.prometheusUrl ? { PROMETHEUS_URL: options.prometheusUrl } : {}),
        SCHEDULER_ADMIN_ADDRESS: `127.0.0.1:${ports['scheduler-admin']}`,
      },
    },
    ...['worker-1', 'worker-2'].map((name) => ({
      name,
      entry: 'services/worker/src/main.js',
      nodeArgs: [...SERVICE_NODE_FLAGS.worker, ...nodeArgs],
      env: {
        ...common,
        ...tls('worker'),
        ...metrics(name),
        DATABASE_URL: infra.urls.app,
        WORKER_PORT: String(ports[name]),
        WORKER_ID: name,
        KEY_SERVICE_ADDRESS: keyService,
      },
    })),
    {
      name: 'scheduler',
      entry: 'services/scheduler/src/main.js',
      nodeArgs,
      env: {
        ...common,
        ...tls('scheduler'),
        ...metrics('scheduler'),
        DATABASE_URL: infra.urls.scheduler,
        WORKER_ADDRESSES: workerAddresses,
        SCHEDULER_ADMIN_PORT: String(ports['scheduler-admin']),
      },
    },
    {
      name: 'edge',
      entry: 'services/edge/src/main.js',
      nodeArgs: [...SERVICE_NODE_FLAGS.edge, ...nodeArgs],
      env: {
        ...common,
        ...tls('edge'),
        ...metrics('edge'),
        // The application role only, and no key-encryption key: data keys come from the key service.
        DATABASE_URL: infra.urls.app,
        ...(infra.redisUrl ? { REDIS_URL: infra.redisUrl } : {}),
        EDGE_PORT: String(ports.edge),
        KEY_SERVICE_ADDRESS: keyService,
      },
    },
  ];
}

/**
 * What a service inherits from the shell that started the stack: settings such as SCHEDULER_TIERS
 * or OTEL_* pass through, credentials do not. A database URL (any variable holding postgres://...,
 * such as a test runner's admin URL) reaches a service only through its definition, which gives
 * each service its own role; a key-encryption key (FAIRWAY_KEK_*) or a backup key (FAIRWAY_BACKUP_KEY_*) only the control plane.
 */
function inheritedEnv(service) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/postgres(ql)?:\/\//i.test(value)) continue;
    if ((name.startsWith('FAIRWAY_KEK') || name.startsWith('FAIRWAY_BACKUP_KEY')) && service !== 'control-plane') continue;
    env[name] = value;
  }
  return env;
}

/**
 * Starts one service and resolves when it logs "ready"; rejects if it exits first or takes longer
 * than `timeoutMs`. `onLine` receives every output line (already prefixed).
 */
function startService(definition, { onLine, timeoutMs = 60_000 } = {}) {
  // FAIRWAY_DIST: a copy of dist/ inside the checkout (so node_modules still resolve) that a
  // long-running stack keeps using while the shared dist/ is rebuilt.
  const dist = process.env.FAIRWAY_DIST ? path.resolve(process.env.FAIRWAY_DIST) : path.join(root, 'dist');
  const child = spawn(process.execPath, [...(definition.nodeArgs ?? []), '--enable-source-maps', path.join(dist, definition.entry)], {
    cwd: root,
    env: { ...inheritedEnv(definition.name), ...definition.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const color = COLORS[definition.name] ?? 37;
  const prefix = `\x1b[${color}m[${definition.name}]\x1b[0m`;
  const handle = { name: definition.name, child, lines: [] };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${definition.name} did not become ready within ${timeoutMs / 1000} s; its last lines:\n${handle.lines.slice(-15).join('\n')}`));
    }, timeoutMs);
    const watch = (stream) => {
      readline.createInterface({ input: stream }).on('line', (line) => {
        handle.lines.push(line);
        if (handle.lines.length > 500) handle.lines.shift();
        onLine?.(`${prefix} ${readable(line)}`, definition.name, line);
        if (line.includes('"msg":"ready"')) {
          clearTimeout(timer);
          resolve(handle);
        }
      });
    };
    watch(child.stdout);
    watch(child.stderr);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${definition.name} exited (${signal ?? code}) before it was ready; its last lines:\n${handle.lines.slice(-15).join('\n')}`));
    });
  });
}

/** Stops a service gracefully (SIGTERM), then forcefully after `graceMs`. */
function stopService(handle, graceMs = 10_000) {
  const { child } = handle;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a whole stack in dependency order (workers before the scheduler, the edge last). */
async function startStack(infra, options) {
  const definitions = stackDefinition(infra, options);
  const handles = [];
  try {
    for (const definition of definitions) {
      handles.push(await startService(definition, { onLine: options.onLine, timeoutMs: options.timeoutMs }));
    }
  } catch (err) {
    await Promise.all(handles.map((h) => stopService(h)));
    throw err;
  }
  return {
    handles,
    byName: (name) => handles.find((h) => h.name === name),
    stop: () => Promise.all([...handles].reverse().map((h) => stopService(h))),
  };
}

module.exports = { freePort, startService, stopService, startStack, stackDefinition, readable, transportEnv, SERVICE_NODE_FLAGS };
