#!/usr/bin/env node
// `npm run down`: stops the services `npm run up` started, the PostgreSQL pair and the Kafka broker if it started them.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./lib/bootstrap.cjs');

const RUN_FILE = path.join(root, '.fairway', 'run', 'stack.json');

async function main() {
  let startedKafka = false;
  if (fs.existsSync(RUN_FILE)) {
    const run = JSON.parse(fs.readFileSync(RUN_FILE, 'utf8'));
    const { pids, startedPgPair } = run;
    startedKafka = run.startedKafka === true;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 15_000;
    const alive = () =>
      pids.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
    while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const pid of alive()) process.kill(pid, 'SIGKILL');
    fs.rmSync(RUN_FILE, { force: true });
    console.log(`[down] stopped ${pids.length} services`);
    if (startedPgPair && require('./lib/pg-pair.cjs').stopPair()) console.log('[down] stopped the project-owned PostgreSQL primary and standby');
  } else {
    console.log('[down] no services started by npm run up are running');
  }
  // Only a broker `npm run up` started itself: one that was already running (a shared broker, one
  // `npm test` or another stack uses) is not this stack's to stop.
  if (startedKafka) await require('./kafka.cjs').stop();
  else console.log('[down] the Kafka broker was running before npm run up; left running (node scripts/kafka.cjs stop stops it)');
}

main().catch((err) => {
  console.error(`[down] ${err.message}`);
  process.exit(1);
});
