'use strict';
// A PostgreSQL primary and a hot standby fed by streaming replication, owned by the project: two
// clusters under .fairway/pg-pair made with the machine's PostgreSQL binaries (initdb, then
// pg_basebackup -R, which writes primary_conninfo and standby.signal), on ports of their own. The
// system server (127.0.0.1:5432) is never touched. Used by `npm run up` (the stack's database and
// its read replica), by the replica tests and by bench:replica.
//
// As root the clusters run as the `postgres` user (PostgreSQL refuses to run as root).
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const STATE_DIR = path.join(root, '.fairway', 'pg-pair');
// Below Linux's ephemeral range (32768-60999): a port there can be taken by any outgoing connection.
const PRIMARY_PORT = Number(process.env.FAIRWAY_PG_PRIMARY_PORT ?? 25432);
const STANDBY_PORT = Number(process.env.FAIRWAY_PG_STANDBY_PORT ?? 25433);

/** The directory of the machine's PostgreSQL binaries: PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
function binDir() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) if (fs.existsSync(path.join(base, v, 'bin', 'initdb'))) return path.join(base, v, 'bin');
  throw new Error('no PostgreSQL binaries found under /usr/lib/postgresql; install postgresql or set PG_BIN');
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as `postgres` when we are root. */
function pg(tool, args, options = {}) {
  const bin = path.join(binDir(), tool);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', ...options });
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${tool} ${args.join(' ')} failed (${result.status}): ${(result.stderr || result.stdout || '').trim().slice(-800)}`);
  }
  return result;
}

function ownByPostgres(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
}

const dirs = (stateDir) => ({ primary: path.join(stateDir, 'primary'), standby: path.join(stateDir, 'standby'), logs: path.join(stateDir, 'logs') });

function running(dataDir) {
  return fs.existsSync(path.join(dataDir, 'postmaster.pid')) && pg('pg_ctl', ['status', '-D', dataDir], { allowFailure: true }).status === 0;
}

function start(dataDir, logFile) {
  if (running(dataDir)) return false;
  pg('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile]);
  return true;
}

/**
 * Makes (first time) and starts the pair; returns its admin URLs. Idempotent: a running pair is
 * left as it is, a stopped one started, a missing standby re-cloned from the primary.
 */
function ensurePair(options = {}) {
  const log = options.log ?? (() => undefined);
  const stateDir = options.stateDir ?? STATE_DIR;
  const primaryPort = options.primaryPort ?? PRIMARY_PORT;
  const standbyPort = options.standbyPort ?? STANDBY_PORT;
  const d = dirs(stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  ownByPostgres(d.logs);
  let started = false;
  if (!fs.existsSync(path.join(d.primary, 'PG_VERSION'))) {
    log(`initdb: the primary under ${d.primary}`);
    ownByPostgres(d.primary);
    pg('initdb', ['-D', d.primary, '-U', 'postgres', '--auth=trust', '--no-instructions', '-E', 'UTF8', '--locale=C.UTF-8']);
    fs.appendFileSync(
      path.join(d.primary, 'postgresql.conf'),
      [
        '',
        '# fairway: the primary of the project-owned pair (scripts/lib/pg-pair.cjs)',
        `port = ${primaryPort}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${d.primary}'`,
        'wal_level = replica',
        'max_wal_senders = 5',
        'max_connections = 200',
        'wal_keep_size = 256MB',
        // Development durability: a crash may lose the last commits, never corrupt (the benchmark and tests do not need fsync).
        'synchronous_commit = off',
        'fsync = off',
        'full_page_writes = off',
        '',
      ].join('\n'),
    );
    fs.appendFileSync(path.join(d.primary, 'pg_hba.conf'), '\nhost replication postgres 127.0.0.1/32 trust\n');
  }
  started = start(d.primary, path.join(d.logs, 'primary.log')) || started;
  if (!fs.existsSync(path.join(d.standby, 'PG_VERSION'))) {
    log(`pg_basebackup -R: the standby under ${d.standby}`);
    fs.rmSync(d.standby, { recursive: true, force: true });
    ownByPostgres(d.standby);
    pg('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', d.standby, '-R', '-X', 'stream', '-c', 'fast']);
    fs.appendFileSync(
      path.join(d.standby, 'postgresql.conf'),
      [
        '',
        '# fairway: the hot standby of the project-owned pair',
        `port = ${standbyPort}`,
        `unix_socket_directories = '${d.standby}'`,
        'hot_standby = on',
        // Long reports on the standby are not cancelled by the primary's vacuum (the cost: bloat on the primary while they run).
        'hot_standby_feedback = on',
        'max_standby_streaming_delay = 30s',
        '',
      ].join('\n'),
    );
  }
  started = start(d.standby, path.join(d.logs, 'standby.log')) || started;
  return {
    started,
    stateDir,
    primaryAdminUrl: `postgres://postgres@127.0.0.1:${primaryPort}/postgres`,
    standbyAdminUrl: `postgres://postgres@127.0.0.1:${standbyPort}/postgres`,
    primaryPort,
    standbyPort,
  };
}

/** Stops the standby, then the primary (fast shutdown). Returns whether anything was running. */
function stopPair(options = {}) {
  const d = dirs(options.stateDir ?? STATE_DIR);
  let stopped = false;
  for (const dataDir of [d.standby, d.primary]) {
    if (running(dataDir)) {
      pg('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', dataDir]);
      stopped = true;
    }
  }
  return stopped;
}

/** Stops one member: 'standby' or 'primary' (tests of the fallback). */
function stopMember(member, options = {}) {
  const dataDir = dirs(options.stateDir ?? STATE_DIR)[member];
  if (running(dataDir)) pg('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', dataDir]);
}

/** Whether each member runs. */
function pairStatus(options = {}) {
  const d = dirs(options.stateDir ?? STATE_DIR);
  return { primary: running(d.primary), standby: running(d.standby) };
}

/** A URL of `url` (same role, password and database) on `port` of 127.0.0.1. */
function onPort(url, port) {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

module.exports = { ensurePair, stopPair, stopMember, pairStatus, onPort, STATE_DIR, PRIMARY_PORT, STANDBY_PORT };

if (require.main === module) {
  const command = process.argv[2] ?? 'status';
  const log = (msg) => console.error(`[pg-pair] ${msg}`);
  if (command === 'start') {
    const pair = ensurePair({ log });
    console.log(JSON.stringify(pair));
  } else if (command === 'stop') {
    log(stopPair() ? 'stopped' : 'not running');
  } else if (command === 'status') {
    console.log(JSON.stringify(pairStatus()));
  } else {
    console.error('usage: node scripts/lib/pg-pair.cjs start|stop|status');
    process.exit(2);
  }
}
