// Installs what a fresh clone is missing, so `npm run up` and `npm test` are the whole set-up.
// Plain CommonJS with no dependencies: it runs before node_modules exists.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

/** Runs `npm ci` when node_modules is missing or older than package-lock.json. */
function ensureDependencies({ quiet = false } = {}) {
  const lock = path.join(root, 'package-lock.json');
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const fresh =
    fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  if (!quiet) console.log('[setup] installing npm dependencies (npm ci)...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
  });
}

module.exports = { root, ensureDependencies };
