// Prometheus tooling for tests and for operators on one machine: makes sure `promtool` and
// `prometheus` exist (Debian's `prometheus` package, installed with apt-get when missing and we
// are root), runs promtool, and starts a throw-away Prometheus whose data lives under .fairway/.
// Also finds a Compose CLI for the manifest checks (Debian ships the standalone docker-compose).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./bootstrap.cjs');

/** Where throw-away state (TSDB blocks, rendered configs) goes: inside the checkout, never $HOME. */
const STATE_DIR = path.join(root, '.fairway', 'prometheus');

function onPath(binary) {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * Installs Debian `pkg` when any of `binaries` is missing, non-interactively, as root. Throws a
 * message that says what to install by hand when that is not possible.
 * @returns {Record<string, string>} binary -> absolute path
 */
function ensureDebianTools(binaries, pkg, { log = () => undefined } = {}) {
  const missing = () => binaries.filter((b) => !onPath(b));
  if (missing().length > 0) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot || !onPath('apt-get')) {
      throw new Error(`${missing().join(', ')} not found; install Debian's '${pkg}' package (apt-get install -y ${pkg}) and retry`);
    }
    log(`installing ${pkg} with apt-get (missing: ${missing().join(', ')})`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // Another install (a parallel test run, the machine's own) may hold dpkg's lock: wait for it
    // instead of failing, and take what it installed meanwhile.
    const wait = ['-o', 'DPkg::Lock::Timeout=300'];
    const update = spawnSync('apt-get', [...wait, 'update', '-qq'], { env, encoding: 'utf8' });
    if (update.status !== 0 && missing().length > 0) throw new Error(`apt-get update failed: ${update.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const install =
      missing().length > 0 ? spawnSync('apt-get', [...wait, 'install', '-y', '-qq', '--no-install-recommends', pkg], { env, encoding: 'utf8' }) : undefined;
    if (install && install.status !== 0 && missing().length > 0)
      throw new Error(`apt-get install ${pkg} failed: ${install.stderr.trim().split('\n').slice(-3).join(' ')}`);
    if (missing().length > 0) throw new Error(`${pkg} is installed but ${missing().join(', ')} still not on PATH`);
  }
  return Object.fromEntries(binaries.map((b) => [b, onPath(b)]));
}

/** Paths of `promtool` and `prometheus`, installing Debian's package when missing. */
function ensurePrometheus(options = {}) {
  return ensureDebianTools(['promtool', 'prometheus'], 'prometheus', options);
}

/** Runs promtool with `args`; returns its exit status and output. */
function promtool(args, { cwd = root } = {}) {
  const { promtool: bin } = ensurePrometheus();
  const run = spawnSync(bin, args, { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * The Compose CLI as argv: `docker compose` (the plugin) when it works, else a standalone
 * `docker-compose`, installing Debian's when we are root and neither exists.
 */
function composeCommand({ install = true, log } = {}) {
  if (onPath('docker') && spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0) return ['docker', 'compose'];
  if (onPath('docker-compose')) return ['docker-compose'];
  if (install) {
    try {
      ensureDebianTools(['docker-compose'], 'docker-compose', { log });
      return ['docker-compose'];
    } catch {
      // fall through to the message below
    }
  }
  throw new Error("no Compose CLI: install docker's compose plugin (docker-compose-plugin), or Debian's docker-compose");
}

/**
 * Starts a Prometheus with `config` (YAML text) on 127.0.0.1:`port`, data under
 * .fairway/prometheus/<name>, and waits until /-/ready answers.
 * @returns {Promise<{ url: string, pid: number, dataDir: string, lines: string[], stop: () => Promise<void> }>}
 */
async function startPrometheus({ config, port, name = `run-${process.pid}`, timeoutMs = 60_000 }) {
  const { prometheus: bin } = ensurePrometheus();
  const dir = path.join(STATE_DIR, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, config);
  const child = spawn(
    bin,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        fs.rmSync(dir, { recursive: true, force: true });
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${lines.slice(-10).join('\n')}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, pid: child.pid, dataDir: dir, lines, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within ${timeoutMs / 1000} s:\n${lines.slice(-10).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The scrape configuration of a stack on this machine (`npm run up`, the console's browser test):
 * the shipped deploy/prometheus/prometheus.yml's jobs and labels (fairway-edge, -scheduler,
 * -worker, plus the control plane's), pointed at the services' local metrics ports, with the
 * shipped recording and alerting rules.
 * @param {Record<string, number>} metricsPorts service name (edge, scheduler, worker-1, ...) -> /metrics port
 * @param {{ scrapeInterval?: string, selfPort?: number }} options
 */
function localScrapeConfig(metricsPorts, { scrapeInterval = '5s', selfPort } = {}) {
  const jobs = new Map();
  for (const [name, port] of Object.entries(metricsPorts)) {
    const component = name.replace(/-\d+$/, '');
    if (!jobs.has(component)) jobs.set(component, []);
    jobs.get(component).push(`'127.0.0.1:${port}'`);
  }
  const scrape = [...jobs].map(
    ([component, targets]) =>
      `  - job_name: fairway-${component}\n    static_configs:\n      - targets: [${targets.join(', ')}]\n        labels: { component: ${component} }`,
  );
  if (selfPort) scrape.push(`  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${selfPort}']`);
  return [
    "# Rendered by scripts/lib/prometheus.cjs from the local stack's metrics ports.",
    'global:',
    `  scrape_interval: ${scrapeInterval}`,
    `  evaluation_interval: ${scrapeInterval}`,
    '  external_labels:',
    '    fairway_stack: local',
    'rule_files:',
    `  - ${path.join(root, 'deploy', 'prometheus', 'rules', '*.yml')}`,
    'scrape_configs:',
    ...scrape,
    '',
  ].join('\n');
}

module.exports = { STATE_DIR, ensureDebianTools, ensurePrometheus, promtool, composeCommand, startPrometheus, localScrapeConfig };
