#!/usr/bin/env node
// `npm test`: the whole suite on a fresh clone. Installs what is missing, brings up Kafka and
// PostgreSQL (or uses KAFKA_BROKERS / DATABASE_URL, or testcontainers where a Docker engine
// exists), builds the services, then runs the three tiers: unit, integration, end-to-end.
//   npm test -- --selectProjects unit        one tier
//   npm test -- libs/kafka                   a path pattern
// Prints a closing line "tests: N passed, N failed" and exits non-zero when anything failed.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root, ensureDependencies } = require('./lib/bootstrap.cjs');

async function main() {
  const started = Date.now();
  const args = process.argv.slice(2);
  ensureDependencies();

  let containers;
  if (!process.env.KAFKA_BROKERS && !process.env.DATABASE_URL) {
    const { dockerEngineAvailable, startContainers } = require('./lib/containers.cjs');
    if (dockerEngineAvailable()) {
      containers = await startContainers((msg) => console.log(`[test] ${msg}`));
      process.env.KAFKA_BROKERS = containers.brokers;
      process.env.DATABASE_URL = containers.databaseUrl;
    }
  }

  const { ensureInfra } = require('./lib/infra.cjs');
  // Tests use their own database, so a running `npm run up` stack and the suite never meet.
  const infra = await ensureInfra({ database: 'fairway_test', topicPrefix: 'fairway-test' });
  require('./build.cjs').build();
  const infraSeconds = (Date.now() - started) / 1000;

  const env = {
    ...process.env,
    FAIRWAY_INFRA_READY: '1',
    FAIRWAY_TEST_KAFKA_BROKERS: infra.brokers,
    FAIRWAY_TEST_DATABASE_ADMIN_URL: infra.adminUrl,
    FAIRWAY_TEST_DATABASE_URLS: JSON.stringify(infra.urls),
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    NX_DAEMON: 'false',
  };
  // Static checks first: strict types, lint (with Nx module boundaries) and the public OpenAPI
  // document's lint are part of the suite.
  let staticFailures = 0;
  if (args.length === 0) {
    const checks = [
      ['typecheck', [path.join(root, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit']],
      ['lint', ['npm', 'run', '-s', 'lint']],
      // The public OpenAPI document under Redocly's recommended rules (no error, no warning), and
      // the client types generated from it up to date.
      ['openapi', [process.execPath, path.join(root, 'scripts', 'gen-openapi-client.cjs'), '--lint', '--check']],
    ];
    // Formatting: Prettier's check (`npm run format` fixes what it reports).
    checks.push(['format', ['npm', 'run', '-s', 'format:check']]);
    for (const [name, command] of checks) {
      const t0 = Date.now();
      const run = spawnSync(command[0], command.slice(1), { cwd: root, env, stdio: 'inherit' });
      const ok = run.status === 0;
      console.log(`[test] ${name}: ${ok ? 'clean' : 'FAILED'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      if (!ok) staticFailures += 1;
    }
  }

  // Unit and integration tests first, end-to-end second: the end-to-end stack's scheduler would
  // otherwise pick up jobs that integration tests insert into the same test database. A partial run
  // (`npm test -- <paths>`) keeps the two passes too, unless it chose its projects itself.
  const ownProjects = args.includes('--selectProjects');
  const passes = ownProjects
    ? [args]
    : [
        [...args, '--passWithNoTests', '--selectProjects', 'unit', 'integration'],
        [...args, '--passWithNoTests', '--selectProjects', 'e2e'],
      ];
  const totals = { passed: 0, failed: staticFailures, skipped: 0 };
  let status = staticFailures > 0 ? 1 : 0;
  // Jest's JSON report stays inside the checkout (.fairway/ is git-ignored), never beside it.
  const reportDir = path.join(root, '.fairway', 'test-results');
  fs.mkdirSync(reportDir, { recursive: true });
  for (const pass of passes) {
    const report = path.join(reportDir, `jest-${process.pid}.json`);
    const jest = spawnSync(process.execPath, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', `--outputFile=${report}`, ...pass], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    if (jest.status !== 0) status = jest.status ?? 1;
    if (!fs.existsSync(report)) {
      totals.failed += 1;
      continue;
    }
    const result = JSON.parse(fs.readFileSync(report, 'utf8'));
    fs.rmSync(report, { force: true });
    // A suite that failed to run (a hook, a syntax error) fails no test by itself: count it too.
    const brokenSuites = result.testResults.filter((suite) => suite.status === 'failed' && suite.assertionResults.every((t) => t.status !== 'failed')).length;
    let failed = result.numFailedTests + brokenSuites;
    if (failed === 0 && jest.status !== 0) failed = 1;
    totals.passed += result.numPassedTests;
    totals.failed += failed;
    totals.skipped += result.numPendingTests;
  }
  if (containers) await containers.stop();
  const summary = `${totals.passed} passed, ${totals.failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ''}`;
  const total = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `\n[test] infrastructure ready in ${infraSeconds.toFixed(1)} s${infra.timings.kafkaStartSeconds ? ` (Kafka started in ${infra.timings.kafkaStartSeconds.toFixed(1)} s)` : ''}; whole run ${total} s`,
  );
  console.log(`tests: ${summary}`);
  process.exit(status);
}

main().catch((err) => {
  console.error(`[test] ${err.message}`);
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
});
