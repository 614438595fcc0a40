#!/usr/bin/env node
// Runs one TypeScript entry point (a benchmark, the simulator, a CLI) straight from source:
// @swc-node/register compiles on require and honours the `paths` of tsconfig.base.json.
'use strict';
const path = require('node:path');
const { ensureDependencies } = require('./lib/bootstrap.cjs');

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.cjs <file.ts> [args...]');
  process.exit(2);
}
ensureDependencies({ quiet: true });
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
process.argv = [process.argv[0], path.resolve(entry), ...args];
require(path.resolve(entry));
