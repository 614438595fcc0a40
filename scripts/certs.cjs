#!/usr/bin/env node
// `npm run -s certs [-- --dir <dir>] [service ...]` creates the development CA and one certificate
// per service (edge, scheduler, worker, control-plane, tenantctl by default) in .fairway/certs, for
// gRPC mutual TLS. Safe to run again: valid certificates are kept.
'use strict';
const { ensureCerts, tlsEnv, SERVICES, DEFAULT_DIR } = require('./lib/certs.cjs');

const args = process.argv.slice(2);
let dir = DEFAULT_DIR;
const services = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--dir') dir = args[++i];
  else if (args[i] === '--help' || args[i] === '-h') {
    console.log('usage: npm run -s certs -- [--dir <dir>] [service ...]');
    process.exit(0);
  } else services.push(args[i]);
}
try {
  const result = ensureCerts({ dir, services: services.length ? services : SERVICES, log: (m) => console.error(`[certs] ${m}`) });
  console.error(`[certs] ${result.issued.length ? `issued: ${result.issued.join(', ')}` : 'all certificates present and valid'} (${result.dir})`);
  console.error('[certs] a service runs with mutual TLS when started with, e.g. for the worker:');
  for (const [k, v] of Object.entries(tlsEnv('worker', result.dir))) console.error(`  ${k}=${v}`);
} catch (err) {
  console.error(`[certs] could not create certificates: ${err.stderr ? String(err.stderr).trim() : err.message}`);
  process.exit(1);
}
