#!/usr/bin/env node
// Compiles libs and services to dist/ (CommonJS) with tsc, rewrites the @fairway/* path aliases to
// relative requires with tsc-alias, and copies the files the code loads at run time (protos, SQL
// migrations). Skipped when dist/ is newer than every source file.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root, ensureDependencies } = require('./lib/bootstrap.cjs');

const SOURCES = ['libs', 'services', 'protos', 'tsconfig.base.json', 'tsconfig.build.json', 'package-lock.json'];
const stamp = path.join(root, 'dist', '.build-stamp');

function newestMtime(target) {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(target, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry.name)));
  }
  return newest;
}

function build({ force = false, quiet = false } = {}) {
  ensureDependencies({ quiet });
  const newest = Math.max(...SOURCES.map((s) => newestMtime(path.join(root, s))));
  if (!force && fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= newest) {
    if (!quiet) console.log('[build] dist/ is up to date');
    return;
  }
  const started = Date.now();
  if (!quiet) console.log('[build] compiling libs and services to dist/ ...');
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  const bin = (name) => path.join(root, 'node_modules', '.bin', name);
  try {
    execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  } catch (err) {
    // tsc still emitted; FAIRWAY_BUILD_IGNORE_TYPE_ERRORS=1 lets a developer run the stack while a
    // colleague's work in progress does not type-check yet. `npm test` never sets it.
    if (process.env.FAIRWAY_BUILD_IGNORE_TYPE_ERRORS !== '1') throw err;
    console.warn('[build] type errors ignored (FAIRWAY_BUILD_IGNORE_TYPE_ERRORS=1)');
  }
  execFileSync(bin('tsc-alias'), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  fs.cpSync(path.join(root, 'protos'), path.join(root, 'dist', 'protos'), { recursive: true });
  fs.cpSync(path.join(root, 'libs', 'db', 'migrations'), path.join(root, 'dist', 'libs', 'db', 'migrations'), { recursive: true });
  fs.writeFileSync(stamp, new Date().toISOString());
  if (!quiet) console.log(`[build] done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

module.exports = { build };

if (require.main === module) {
  try {
    build({ force: process.argv.includes('--force') });
  } catch (err) {
    console.error(`[build] failed: ${err.message}`);
    process.exit(1);
  }
}
