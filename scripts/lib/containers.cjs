// Where a Docker engine exists and no services are named in the environment, the tests may run
// Kafka and PostgreSQL in throw-away containers with testcontainers. testcontainers is required
// lazily, here only, so machines without Docker never load it.
'use strict';
const { execFileSync } = require('node:child_process');

/** True when a Docker engine answers (a docker client alone is not enough). */
function dockerEngineAvailable() {
  if (process.env.FAIRWAY_TESTCONTAINERS === '0') return false;
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/** Starts Kafka (KRaft) and PostgreSQL 15 containers; returns their addresses and a stop function. */
async function startContainers(log) {
  const { KafkaContainer } = require('@testcontainers/kafka');
  const { PostgreSqlContainer } = require('@testcontainers/postgresql');
  log('Docker engine found: starting Kafka and PostgreSQL with testcontainers');
  const [kafka, postgres] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.7.1').withKraft().start(),
    new PostgreSqlContainer('postgres:15').withDatabase('fairway').start(),
  ]);
  return {
    brokers: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    databaseUrl: postgres.getConnectionUri(),
    stop: () => Promise.all([kafka.stop(), postgres.stop()]),
  };
}

module.exports = { dockerEngineAvailable, startContainers };
