// Installs what a fresh clone is missing, so `npm run up` and `npm test` are the whole set-up.
// Plain CommonJS with no dependencies: it runs before node_modules exists.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

/** Packages the lock file names that are not installed (optional ones are allowed to be absent). */
function missingPackages() {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages ?? {})
    .filter(([location, entry]) => location.startsWith('node_modules/') && !entry.optional && !location.includes('/node_modules/', 13))
    .map(([location]) => location)
    .filter((location) => !fs.existsSync(path.join(root, location, 'package.json')));
}

/**
 * Installs the npm dependencies when they are missing: `npm ci` on a fresh clone (no
 * node_modules), `npm install` when node_modules exists but lacks a package the lock file names
 * (it never deletes what is there, unlike npm ci, so a running service keeps its files).
 */
function ensureDependencies({ quiet = false } = {}) {
  const stdio = quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit';
  if (!fs.existsSync(path.join(root, 'node_modules'))) {
    if (!quiet) console.log('[setup] installing npm dependencies (npm ci)...');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio });
    return;
  }
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (!quiet) console.log(`[setup] ${missing.length} npm packages missing (e.g. ${missing[0].slice(13)}); running npm install...`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio });
}

module.exports = { root, ensureDependencies };
