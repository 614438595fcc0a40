#!/usr/bin/env node
// `npm run -s token -- <tenant>` prints a development bearer token for that tenant.
'use strict';
const { ensureDependencies } = require('./lib/bootstrap.cjs');

const tenant = process.argv[2];
if (!tenant || tenant.startsWith('-')) {
  console.error('usage: npm run -s token -- <tenant>   (e.g. acme)');
  process.exit(2);
}
ensureDependencies({ quiet: true });
require('./lib/token.cjs')
  .devToken(tenant)
  .then((token) => console.log(token))
  .catch((err) => {
    console.error(`could not sign a token: ${err.message}`);
    process.exit(1);
  });
