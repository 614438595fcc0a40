#!/usr/bin/env node
// `npm run -s token -- <tenant>` prints a development bearer token for that tenant;
// `npm run -s token -- --operator [--subject alice]` prints an operator token for the admin API.
'use strict';
const { parseArgs } = require('node:util');
const { ensureDependencies } = require('./lib/bootstrap.cjs');

const usage =
  'usage: npm run -s token -- <tenant> [--subject <name>] [--expires-in 12h]\n       npm run -s token -- --operator [--subject alice] [--expires-in 1h]';
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { operator: { type: 'boolean' }, subject: { type: 'string' }, 'expires-in': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
const { values, positionals } = parsed;
const tenant = positionals[0];
if (values.help || (values.operator ? positionals.length > 0 : !tenant)) {
  console.error(values.operator ? `an operator token names no tenant\n${usage}` : usage);
  process.exit(values.help ? 0 : 2);
}
ensureDependencies({ quiet: true });
const { devToken, operatorToken } = require('./lib/token.cjs');
const options = { ...(values.subject ? { subject: values.subject } : {}), ...(values['expires-in'] ? { expiresIn: values['expires-in'] } : {}) };
(values.operator ? operatorToken(options) : devToken(tenant, options))
  .then((token) => console.log(token))
  .catch((err) => {
    console.error(`could not sign a token: ${err.message}`);
    process.exit(1);
  });
