// Jest global setup of the integration tier: makes sure Kafka and PostgreSQL are ready. Under
// `npm test` they already are (FAIRWAY_INFRA_READY); a bare `npx jest` brings them up here.
'use strict';
module.exports = async () => {
  if (process.env.FAIRWAY_INFRA_READY === '1') return;
  const { ensureInfra } = require('../../scripts/lib/infra.cjs');
  const infra = await ensureInfra({ database: 'fairway_test', topicPrefix: 'fairway-test', log: () => undefined });
  process.env.FAIRWAY_INFRA_READY = '1';
  process.env.FAIRWAY_TEST_KAFKA_BROKERS = infra.brokers;
  process.env.FAIRWAY_TEST_DATABASE_ADMIN_URL = infra.adminUrl;
  process.env.FAIRWAY_TEST_DATABASE_URLS = JSON.stringify(infra.urls);
};
