#!/usr/bin/env node
// The local Apache Kafka broker: KRaft mode, single node, jars from Maven Central (deploy/kafka/pom.xml).
//
//   node scripts/kafka.cjs start    resolve the jars (first time), format storage, start, wait until ready
//   node scripts/kafka.cjs stop     stop the broker this checkout started
//   node scripts/kafka.cjs status   say whether it runs and answers
//
// Everything lives under .fairway/kafka (ignored by git): data, logs, pid, resolved classpath.
// start, stop and status are idempotent; a second start finds the running broker.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { root } = require('./lib/bootstrap.cjs');

// FAIRWAY_KAFKA_HOME (with FAIRWAY_KAFKA_PORT) runs a second, private broker beside the shared one,
// e.g. for the chaos suite, which kills its broker; the resolved classpath stays shared.
const defaultHome = path.join(root, '.fairway', 'kafka');
const home = process.env.FAIRWAY_KAFKA_HOME ? path.resolve(process.env.FAIRWAY_KAFKA_HOME) : defaultHome;
const files = {
  pom: path.join(root, 'deploy', 'kafka', 'pom.xml'),
  classpath: path.join(defaultHome, 'classpath.txt'),
  props: path.join(home, 'server.properties'),
  log4j: path.join(home, 'log4j.properties'),
  data: path.join(home, 'data'),
  logs: path.join(home, 'logs'),
  pid: path.join(home, 'broker.pid'),
  out: path.join(home, 'logs', 'broker.out'),
};
const port = Number(process.env.FAIRWAY_KAFKA_PORT ?? 9092);
const controllerPort = Number(process.env.FAIRWAY_KAFKA_CONTROLLER_PORT ?? port + 1);
const heap = process.env.FAIRWAY_KAFKA_HEAP ?? '512m';
const brokers = `127.0.0.1:${port}`;

// Progress goes to stdout when run as a command, to stderr when a script (a benchmark printing
// JSON, the test runner) requires this file: their stdout stays theirs.
function log(msg) {
  if (require.main === module) console.log(`[kafka] ${msg}`);
  else process.stderr.write(`[kafka] ${msg}\n`);
}

function resolveClasspath() {
  const stale = !fs.existsSync(files.classpath) || fs.statSync(files.classpath).mtimeMs < fs.statSync(files.pom).mtimeMs;
  if (stale) {
    log('resolving Kafka jars from Maven Central (first time only, ~15 s)...');
    fs.mkdirSync(defaultHome, { recursive: true });
    try {
      execFileSync('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', files.pom, 'dependency:build-classpath', `-Dmdep.outputFile=${files.classpath}`], {
        stdio: ['ignore', require.main === module ? 'inherit' : process.stderr, 'inherit'],
      });
    } catch (err) {
      throw new Error(
        `could not resolve the Kafka jars with Maven (${err.message}). Check that 'mvn' is on PATH and reaches Maven Central, or set KAFKA_BROKERS to use a broker you run yourself.`,
      );
    }
  }
  return fs.readFileSync(files.classpath, 'utf8').trim();
}

function writeConfig() {
  fs.mkdirSync(files.logs, { recursive: true });
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${files.data}`,
    'num.partitions=6',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    // Fewer offsets partitions than the default 50: the coordinator loads faster after a start.
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=6',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
  ].join('\n');
  fs.writeFileSync(files.props, `${props}\n`);
  const log4j = [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.RollingFileAppender',
    `log4j.appender.file.File=${path.join(files.logs, 'server.log')}`,
    'log4j.appender.file.MaxFileSize=20MB',
    'log4j.appender.file.MaxBackupIndex=2',
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka=INFO',
    'log4j.logger.org.apache.kafka=INFO',
    'log4j.logger.state.change.logger=WARN',
  ].join('\n');
  fs.writeFileSync(files.log4j, `${log4j}\n`);
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what StorageTool random-uuid prints). */
function clusterId() {
  return crypto.randomBytes(16).toString('base64url');
}

function formatStorage(cp) {
  if (fs.existsSync(path.join(files.data, 'meta.properties'))) return;
  log('formatting KRaft storage');
  execFileSync(
    'java',
    // --cluster-id=<id> in one argument: a base64url id may start with '-', which argparse would
    // otherwise read as an option (seen once in 64 fresh clones).
    ['-cp', cp, `-Dlog4j.configuration=file:${files.log4j}`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId()}`, '-c', files.props],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

function runningPid() {
  if (!fs.existsSync(files.pid)) return undefined;
  const pid = Number(fs.readFileSync(files.pid, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** True when something accepts TCP connections on the broker port. */
function portOpen() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Ready means the admin API answers: the broker describes its cluster and lists topics. Polled with a
 * deadline, each attempt a real request; never a fixed sleep.
 */
async function waitUntilReady(timeoutMs = 90_000, pid = undefined) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({ clientId: 'fairway-kafka-ready', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (pid !== undefined && !runningPid()) {
      throw new Error(`the broker exited during start-up; see ${files.out} and ${path.join(files.logs, 'server.log')}`);
    }
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.listTopics();
      await admin.disconnect();
      return cluster;
    } catch (err) {
      lastError = err.message;
      await admin.disconnect().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Kafka at ${brokers} did not answer within ${timeoutMs / 1000} s (${lastError}); see ${files.out}`);
}

async function start() {
  const started = Date.now();
  const pid = runningPid();
  if (pid) {
    await waitUntilReady();
    log(`already running (pid ${pid}) at ${brokers}`);
    return { brokers, pid, alreadyRunning: true };
  }
  if (await portOpen()) {
    throw new Error(
      `port ${port} is taken by a process this checkout did not start. Stop it, set FAIRWAY_KAFKA_PORT to a free port, or set KAFKA_BROKERS=127.0.0.1:${port} to use that broker.`,
    );
  }
  const { ensureDependencies } = require('./lib/bootstrap.cjs');
  ensureDependencies();
  const cp = resolveClasspath();
  writeConfig();
  formatStorage(cp);
  log(`starting Kafka 3.9 (KRaft) at ${brokers}`);
  const out = fs.openSync(files.out, 'a');
  const child = spawn(
    'java',
    [
      `-Xmx${heap}`,
      `-Xms${heap}`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${files.log4j}`,
      `-Dkafka.logs.dir=${files.logs}`,
      '-cp',
      cp,
      'kafka.Kafka',
      files.props,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  fs.writeFileSync(files.pid, String(child.pid));
  await waitUntilReady(90_000, child.pid);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`ready at ${brokers} (pid ${child.pid}, ${seconds} s)`);
  return { brokers, pid: child.pid, alreadyRunning: false, startSeconds: Number(seconds) };
}

async function stop() {
  const pid = runningPid();
  if (!pid) {
    log('not running');
    fs.rmSync(files.pid, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (runningPid() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (runningPid()) process.kill(pid, 'SIGKILL');
  fs.rmSync(files.pid, { force: true });
  log(`stopped (pid ${pid})`);
}

async function status() {
  const pid = runningPid();
  if (!pid) {
    log('not running');
    return false;
  }
  try {
    await waitUntilReady(5_000);
    log(`running (pid ${pid}) and answering at ${brokers}`);
    return true;
  } catch {
    log(`running (pid ${pid}) but not answering at ${brokers}`);
    return false;
  }
}

module.exports = { start, stop, status, brokers };

if (require.main === module) {
  const command = process.argv[2] ?? 'status';
  const actions = { start, stop, status };
  if (!actions[command]) {
    console.error('usage: node scripts/kafka.cjs start|stop|status');
    process.exit(2);
  }
  actions[command]()
    .then((result) => process.exit(command === 'status' && result === false ? 1 : 0))
    .catch((err) => {
      console.error(`[kafka] ${err.message}`);
      process.exit(1);
    });
}
