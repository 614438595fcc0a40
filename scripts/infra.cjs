#!/usr/bin/env node
// `npm run infra`: brings up Kafka and PostgreSQL for Fairway (see scripts/lib/infra.cjs) and exits.
'use strict';
const { ensureInfra } = require('./lib/infra.cjs');

ensureInfra({ seed: true })
  .then((infra) => {
    console.log(`[infra] ready: KAFKA_BROKERS=${infra.brokers} DATABASE_URL=${infra.urls.app}`);
    process.exit(0);
  })
  .catch((err) => {
    console.error(`[infra] ${err.message}`);
    process.exit(1);
  });
