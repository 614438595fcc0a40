// Brings up the infrastructure Fairway needs on this machine, or uses the one named in the
// environment: KAFKA_BROKERS (else a local Kafka started by scripts/kafka.cjs) and DATABASE_URL
// (an admin URL; else the local PostgreSQL at 127.0.0.1:5432). Then prepares the database (roles,
// migrations), creates the topics, and waits until a consumer group can be joined.
'use strict';
const crypto = require('node:crypto');
const path = require('node:path');
const { root, ensureDependencies } = require('./bootstrap.cjs');

/** Lets plain scripts require the TypeScript libs directly from source. */
function registerTypeScript() {
  process.env.SWC_NODE_PROJECT ??= path.join(root, 'tsconfig.json');
  require('@swc-node/register');
}

/**
 * Waits until the group coordinator serves: a throw-away consumer joins a throw-away group. Right
 * after a broker starts, the coordinator is still loading and joins fail for a moment.
 */
async function waitForGroupCoordinator(brokers, topic, timeoutMs = 60_000) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({ clientId: 'fairway-ready', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `fairway-ready-${crypto.randomUUID()}`, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } });
  let timer;
  try {
    const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no consumer group could be joined within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => undefined });
    await Promise.race([joined, timeout]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * Ensures Kafka and PostgreSQL are ready for Fairway and returns how to reach them.
 * @param {{ database?: string, topicPrefix?: string, log?: (msg: string) => void, seed?: boolean }} options
 */
async function ensureInfra(options = {}) {
  const log = options.log ?? ((msg) => console.log(`[infra] ${msg}`));
  ensureDependencies();
  const timings = {};

  let brokers = process.env.KAFKA_BROKERS;
  let startedKafka = false;
  if (brokers) {
    log(`using the Kafka broker(s) in KAFKA_BROKERS: ${brokers}`);
  } else {
    const kafka = require('../kafka.cjs');
    const t0 = Date.now();
    const result = await kafka.start();
    timings.kafkaStartSeconds = result.alreadyRunning ? 0 : (Date.now() - t0) / 1000;
    startedKafka = !result.alreadyRunning;
    brokers = result.brokers;
  }

  const redisUrl = await require('./redis.cjs').ensureRedis(log);
  process.env.REDIS_URL ??= redisUrl;

  registerTypeScript();
  const { prepareDatabase, createPool, upsertTenant } = require('../../libs/db/src/index.ts');
  const { createKafka, ensureTopics, topicNames } = require('../../libs/kafka/src/index.ts');

  let adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    log('preparing the database named in DATABASE_URL');
  } else {
    adminUrl = `postgres://postgres@127.0.0.1:5432/${options.database ?? 'fairway'}`;
    log(`preparing PostgreSQL at 127.0.0.1:5432, database ${options.database ?? 'fairway'}`);
  }
  const prepared = await prepareDatabase(adminUrl, { log: () => undefined }).catch((err) => {
    throw new Error(
      `could not prepare PostgreSQL (${err.message}). Start it (pg_ctlcluster 15 main start) or set DATABASE_URL to an admin URL of a server you run.`,
    );
  });
  if (prepared.applied.length > 0) log(`applied migrations: ${prepared.applied.join(', ')}`);

  const topicPrefix = options.topicPrefix ?? process.env.FAIRWAY_TOPIC_PREFIX ?? 'fairway';
  const topics = topicNames(topicPrefix);
  const admin = createKafka({ brokers, clientId: 'fairway-setup' }).admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  const t1 = Date.now();
  await waitForGroupCoordinator(brokers, topics.commands);
  timings.groupJoinSeconds = (Date.now() - t1) / 1000;

  if (options.seed) {
    const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'fairway-seed' });
    try {
      for (const [id, name] of [
        ['acme', 'Acme Corporation'],
        ['globex', 'Globex Corporation'],
      ]) {
        await upsertTenant(owner, { id, displayName: name });
      }
    } finally {
      await owner.end();
    }
    log('demo tenants acme and globex are in the catalog');
  }
  return { brokers, adminUrl, urls: prepared.urls, topicPrefix, topics, startedKafka, timings, redisUrl };
}

module.exports = { ensureInfra, registerTypeScript };
