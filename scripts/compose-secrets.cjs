#!/usr/bin/env node
// `npm run -s compose-secrets [-- --dir <dir>]` writes the credentials docker-compose.yml reads,
// under .fairway/compose (never committed): a random password for each database role and for the
// PostgreSQL superuser, and a random key-encryption key (KEK). Safe to run again: existing
// credentials are kept, the files derived from them are rewritten.
//   postgres-password.txt   the superuser's password (a compose secret: POSTGRES_PASSWORD_FILE)
//   <service>.env           what each service may know: init (admin + every role URL),
//                           control-plane (owner + app URLs, the KEK), scheduler, worker, edge
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./lib/bootstrap.cjs');

const DEFAULT_DIR = path.join(root, '.fairway', 'compose');
/** Host, port and database of the compose PostgreSQL, as the services see it. */
const DATABASE = 'postgres:5432/fairway';

/** 32 random bytes, URL-safe: no character needs escaping in a connection URL. */
function randomPassword() {
  return crypto.randomBytes(32).toString('base64url');
}

/** Reads the kept credentials, adding a fresh value for any that is missing. */
function loadCredentials(file) {
  const kept = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const credentials = {
    postgres: kept.postgres ?? randomPassword(),
    fairway_owner: kept.fairway_owner ?? randomPassword(),
    fairway_app: kept.fairway_app ?? randomPassword(),
    fairway_scheduler: kept.fairway_scheduler ?? randomPassword(),
    kek: kept.kek ?? crypto.randomBytes(32).toString('base64'),
  };
  return { credentials, created: Object.keys(credentials).filter((k) => kept[k] === undefined) };
}

/** The env files' contents, one per compose service that reads one. */
function envFiles(c) {
  const url = (role) => `postgres://${role}:${c[role]}@${DATABASE}`;
  const env = (entries) =>
    Object.entries(entries)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n';
  return {
    'init.env': env({
      DATABASE_URL: `postgres://postgres:${c.postgres}@${DATABASE}`,
      OWNER_URL: url('fairway_owner'),
      APP_URL: url('fairway_app'),
      SCHEDULER_URL: url('fairway_scheduler'),
    }),
    'control-plane.env': env({
      DATABASE_URL: url('fairway_owner'),
      APP_DATABASE_URL: url('fairway_app'),
      FAIRWAY_KEK_CURRENT: 'v1',
      FAIRWAY_KEK_V1: c.kek,
    }),
    'scheduler.env': env({ DATABASE_URL: url('fairway_scheduler') }),
    'worker.env': env({ DATABASE_URL: url('fairway_app') }),
    'edge.env': env({ DATABASE_URL: url('fairway_app') }),
  };
}

/** Writes every file into `dir`; returns which credentials were new. */
function writeComposeSecrets(dir = DEFAULT_DIR) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const store = path.join(dir, 'credentials.json');
  const { credentials, created } = loadCredentials(store);
  fs.writeFileSync(store, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  for (const [name, content] of Object.entries(envFiles(credentials))) {
    // Read by the compose CLI on the host, never mounted into a container: owner-only.
    fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
    fs.chmodSync(path.join(dir, name), 0o600);
  }
  // Mounted into the postgres container, whose entrypoint reads it as the `postgres` user: readable
  // by others, inside a directory only its owner may enter.
  fs.writeFileSync(path.join(dir, 'postgres-password.txt'), credentials.postgres, { mode: 0o644 });
  fs.chmodSync(path.join(dir, 'postgres-password.txt'), 0o644);
  return { dir, created };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--dir');
  const { dir, created } = writeComposeSecrets(at >= 0 ? path.resolve(args[at + 1]) : DEFAULT_DIR);
  console.error(`[compose-secrets] ${created.length ? `generated: ${created.join(', ')}` : 'kept the existing credentials'} (${dir})`);
}

module.exports = { writeComposeSecrets, envFiles, DEFAULT_DIR };
