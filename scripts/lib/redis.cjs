// Redis holds the edge's shared per-tenant limits and idempotency keys. Use REDIS_URL when set;
// else the local server at 127.0.0.1:6379, started (and installed from Debian's packages) if absent.
'use strict';
const { execFileSync } = require('node:child_process');
const net = require('node:net');

/** Resolves true when a Redis server answers PING at `url`. */
function ping(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function commandExists(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Ensures Redis answers; returns its URL. */
async function ensureRedis(log) {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await ping(url)) return url;
  if (process.env.REDIS_URL) {
    throw new Error(`Redis does not answer at REDIS_URL=${url}; start it or unset REDIS_URL to use a local one`);
  }
  if (!commandExists('redis-server')) {
    log('installing redis-server from Debian packages (first time only)...');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'], { stdio: 'inherit' });
  }
  log('starting a local Redis at 127.0.0.1:6379');
  execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await ping(url)) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Redis did not answer within 15 s after start');
}

module.exports = { ensureRedis, ping };
