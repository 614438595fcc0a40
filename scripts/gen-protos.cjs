#!/usr/bin/env node
// Generates the TypeScript types of every proto under protos/ into libs/grpc/src/generated with
// @grpc/proto-loader's generator. The options here must match LOADER_OPTIONS in libs/grpc.
// Generated files are never edited by hand: change the .proto and run `npm run gen:protos`.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root, ensureDependencies } = require('./lib/bootstrap.cjs');

function protoFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return protoFiles(full);
    return entry.name.endsWith('.proto') ? [path.relative(path.join(root, 'protos'), full)] : [];
  });
}

function generate(outDir) {
  fs.rmSync(outDir, { recursive: true, force: true });
  execFileSync(
    path.join(root, 'node_modules', '.bin', 'proto-loader-gen-types'),
    [
      '--grpcLib=@grpc/grpc-js',
      '--longs=String',
      '--enums=String',
      '--defaults',
      '--oneofs',
      '--includeComments',
      `--outDir=${outDir}`,
      ...protoFiles(path.join(root, 'protos')),
      // Last: yargs' array option would swallow the file names that follow it.
      '--includeDirs',
      'protos',
    ],
    { cwd: root, stdio: 'inherit' },
  );
}

module.exports = { generate, protoFiles };

if (require.main === module) {
  ensureDependencies({ quiet: true });
  generate(path.join(root, 'libs', 'grpc', 'src', 'generated'));
  console.log('[protos] generated libs/grpc/src/generated');
}
