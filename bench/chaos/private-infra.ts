/**
 * The chaos suite's own infrastructure: a Kafka broker, a PostgreSQL cluster and a Redis server that
 * this process starts on free ports under a state directory of its own, so it may kill and restart
 * them. The machine's shared broker (9092), PostgreSQL (5432) and Redis (6379) are never touched.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const PG_BIN = process.env['FAIRWAY_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
const { freePort } = require('../../scripts/lib/services.cjs') as { freePort: () => Promise<number> };
const { ping } = require('../../scripts/lib/redis.cjs') as { ping: (url: string) => Promise<boolean> };
const { ensureInfra } = require('../../scripts/lib/infra.cjs');
/* eslint-enable @typescript-eslint/no-require-imports */

/** Polls `probe` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** True while `pid` runs: a killed process waiting to be reaped (a zombie, state Z) no longer does. */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, the state follows the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * A single-node KRaft broker run by scripts/kafka.cjs with FAIRWAY_KAFKA_HOME and
 * FAIRWAY_KAFKA_PORT pointing at this suite's directory and ports.
 */
export class PrivateKafka {
  private constructor(
    private readonly home: string,
    readonly port: number,
    private readonly controllerPort: number,
    private readonly log: (msg: string) => void,
  ) {}

  static async create(stateDir: string, log: (msg: string) => void): Promise<PrivateKafka> {
    const home = path.join(stateDir, 'kafka');
    fs.mkdirSync(home, { recursive: true });
    return new PrivateKafka(home, await freePort(), await freePort(), log);
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  private command(action: 'start' | 'stop'): Promise<{ stdout: string; stderr: string }> {
    return run(process.execPath, [path.join(root, 'scripts', 'kafka.cjs'), action], {
      cwd: root,
      env: {
        ...process.env,
        FAIRWAY_KAFKA_HOME: this.home,
        FAIRWAY_KAFKA_PORT: String(this.port),
        FAIRWAY_KAFKA_CONTROLLER_PORT: String(this.controllerPort),
        FAIRWAY_KAFKA_HEAP: process.env['FAIRWAY_KAFKA_HEAP'] ?? '384m',
      },
      maxBuffer: 4 * 1024 * 1024,
    });
  }

  /**
   * Starts the broker and resolves once its admin API answers. Returns the broker's own start time
   * as scripts/kafka.cjs measured it (from spawning the JVM until ready), and the whole command's
   * (with the script's own start, which a loaded machine stretches).
   */
  async start(): Promise<{ brokerStartMs: number; commandMs: number }> {
    const started = Date.now();
    const { stdout } = await this.command('start');
    const commandMs = Date.now() - started;
    for (const line of stdout.trim().split('\n')) if (line) this.log(line);
    const seconds = /ready at \S+ \(pid \d+, ([\d.]+) s\)/.exec(stdout)?.[1];
    return { brokerStartMs: seconds === undefined ? commandMs : Math.round(Number(seconds) * 1_000), commandMs };
  }

  /** The broker's process id, from the pid file scripts/kafka.cjs writes. */
  pid(): number | undefined {
    const file = path.join(this.home, 'broker.pid');
    if (!fs.existsSync(file)) return undefined;
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** kill -9 of the broker; resolves once the process is gone. */
  async kill(): Promise<void> {
    const pid = this.pid();
    if (!alive(pid)) return;
    process.kill(pid!, 'SIGKILL');
    await until('the broker to exit', () => !alive(pid), 10_000);
  }

  async stop(): Promise<void> {
    await this.command('stop').catch(() => undefined);
  }
}

/** A PostgreSQL 15 cluster initialised by this suite (initdb as user postgres), on a port of its own. */
export class PrivatePostgres {
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(stateDir: string): Promise<PrivatePostgres> {
    const dir = path.join(stateDir, 'postgres');
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    // The server refuses to run as root: the cluster belongs to the postgres user.
    await run('chown', ['postgres:postgres', dir]);
    await PrivatePostgres.asPostgres(`${PG_BIN}/initdb`, ['-D', dir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    const settings = [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'max_connections = 200',
      'shared_buffers = 64MB',
    ];
    fs.appendFileSync(path.join(dir, 'postgresql.conf'), `\n# fairway chaos suite\n${settings.join('\n')}\n`);
    return new PrivatePostgres(dir, port);
  }

  private static asPostgres(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
    const asRoot = process.getuid?.() === 0;
    return asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  }

  /** The superuser URL of database `name` on this cluster. */
  url(name = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  private pgCtl(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return PrivatePostgres.asPostgres(`${PG_BIN}/pg_ctl`, ['-D', this.dir, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60', ...args]);
  }

  async start(): Promise<void> {
    await this.pgCtl(['start']);
  }

  /** An unclean restart: immediate shutdown (no checkpoint, like a crash), then crash recovery. */
  async restart(): Promise<void> {
    await this.pgCtl(['-m', 'immediate', 'restart']);
  }

  async stop(): Promise<void> {
    await this.pgCtl(['-m', 'fast', 'stop']).catch(() => undefined);
  }
}

/** A redis-server of this suite's own, without persistence, on a port of its own. */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async create(): Promise<PrivateRedis> {
    return new PrivateRedis(await freePort());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new Error(`redis-server could not start (${err.message}); install it (apt-get install redis-server)`)));
    });
    await until('redis to answer PING', () => ping(this.url), 15_000);
  }

  /** kill -9 of the server; resolves once it exited. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

/**
 * One run's private broker, PostgreSQL cluster and Redis (the chaos suite's and the soak's), under a
 * fresh state directory, with the services' log in .fairway/<name>/last-run.log.
 */
export class PrivateInfra {
  private constructor(
    readonly name: string,
    readonly stateDir: string,
    readonly serviceLog: fs.WriteStream,
    readonly kafka: PrivateKafka,
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
  ) {}

  /** Ports and directories, nothing started yet. */
  static async create(name: string, progress: (msg: string) => void): Promise<PrivateInfra> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `fairway-${name}-`));
    // The postgres user must reach its cluster's directory inside.
    fs.chmodSync(stateDir, 0o755);
    const logFile = path.join(root, '.fairway', name, 'last-run.log');
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const serviceLog = fs.createWriteStream(logFile);
    return new PrivateInfra(
      name,
      stateDir,
      serviceLog,
      await PrivateKafka.create(stateDir, progress),
      await PrivatePostgres.create(stateDir),
      await PrivateRedis.create(),
    );
  }

  /** The run's database on the private cluster (`fairway_<name>`). */
  get databaseUrl(): string {
    return this.postgres.url(`fairway_${this.name}`);
  }

  /**
   * Starts the three together, points this process (and the services it starts) at them, and
   * prepares the run's database and topics (prefix `<name>`): what ensureInfra answers.
   */
  async start(progress: (msg: string) => void): Promise<Awaited<ReturnType<typeof ensureInfra>>> {
    progress(`state under ${this.stateDir}; private broker on ${this.kafka.brokers}, PostgreSQL on ${this.postgres.port}, Redis on ${this.redis.port}`);
    await Promise.all([this.kafka.start(), this.postgres.start(), this.redis.start()]);
    process.env['KAFKA_BROKERS'] = this.kafka.brokers;
    process.env['DATABASE_URL'] = this.databaseUrl;
    process.env['REDIS_URL'] = this.redis.url;
    return ensureInfra({ database: `fairway_${this.name}`, topicPrefix: this.name, log: progress });
  }

  /** Stops the three, closes the log and removes the state directory. */
  async stop(): Promise<void> {
    await this.kafka.stop();
    await this.postgres.stop();
    await this.redis.stop();
    this.serviceLog.end();
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }
}
