#!/usr/bin/env node
// The one-shot preparation of a deployed Fairway (the Kubernetes Job fairway-init, the compose
// service init): the database roles with the passwords in OWNER_URL / APP_URL / SCHEDULER_URL, the
// catalog migrations, and the topics. Unlike `npm run infra` (a developer's machine) it starts
// nothing, installs nothing and never gives a role its own name as password. Idempotent.
//   DATABASE_URL        an admin URL (may create databases and roles)
//   OWNER_URL, APP_URL, SCHEDULER_URL   each role's URL, with its password
//   KAFKA_BROKERS, FAIRWAY_TOPIC_PREFIX
//   FAIRWAY_SEED_DEMO=true   also puts the demo tenants acme and globex in the catalog (compose only)
'use strict';
const { registerTypeScript } = require('./lib/infra.cjs');
const { rolePasswords } = require('./lib/role-passwords.cjs');

async function main() {
  const adminUrl = process.env.DATABASE_URL;
  const brokers = process.env.KAFKA_BROKERS;
  if (!adminUrl) throw new Error('DATABASE_URL is not set: an admin URL of the PostgreSQL server');
  if (!brokers) throw new Error('KAFKA_BROKERS is not set');
  const passwords = rolePasswords(process.env);

  registerTypeScript();
  const { prepareDatabase, createPool, upsertTenant } = require('../libs/db/src/index.ts');
  const { createKafka, ensureTopics, topicNames } = require('../libs/kafka/src/index.ts');

  const prepared = await prepareDatabase(adminUrl, { passwords, log: (msg) => console.log(`[init] ${msg}`) });
  console.log(`[init] database ${prepared.database} ready; roles' passwords set; migrations applied: ${prepared.applied.join(', ') || 'none new'}`);

  const topics = topicNames(process.env.FAIRWAY_TOPIC_PREFIX ?? 'fairway');
  const admin = createKafka({ brokers, clientId: 'fairway-init' }).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  console.log(`[init] topics ready: ${Object.values(topics).join(', ')}`);

  if (process.env.FAIRWAY_SEED_DEMO === 'true') {
    const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'fairway-init' });
    try {
      for (const [id, displayName] of [
        ['acme', 'Acme Corporation'],
        ['globex', 'Globex Corporation'],
      ]) {
        await upsertTenant(owner, { id, displayName });
      }
    } finally {
      await owner.end();
    }
    console.log('[init] demo tenants acme and globex are in the catalog');
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[init] ${err.message}`);
    process.exit(1);
  },
);
