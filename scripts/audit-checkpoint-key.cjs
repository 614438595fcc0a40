#!/usr/bin/env node
// Makes the Ed25519 key pair that signs the audit trail's checkpoints (libs/audit, checkpoints.ts;
// docs/security.md, "Audit trail"). Run by the operator, on the operator's machine:
//   node scripts/audit-checkpoint-key.cjs <dir>
// writes <dir>/audit-checkpoint.key.pem (private, mode 0600: give it to the control plane as the
// Secret behind AUDIT_CHECKPOINT_KEY) and <dir>/audit-checkpoint.pub.pem (public: keep it with the
// checkpoint file; `tenantctl audit verify --key` reads it). Refuses to overwrite an existing key:
// a lost private key only stops new checkpoints, an overwritten one orphans the old ones' key id.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
if (!dir || process.argv.length > 3) {
  console.error('usage: node scripts/audit-checkpoint-key.cjs <dir>');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
const privateFile = path.join(dir, 'audit-checkpoint.key.pem');
const publicFile = path.join(dir, 'audit-checkpoint.pub.pem');
for (const file of [privateFile, publicFile]) {
  if (fs.existsSync(file)) {
    console.error(`${file} exists: not overwritten (move it away first if you mean to rotate the key)`);
    process.exit(1);
  }
}
const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const spki = publicKey.export({ type: 'spki', format: 'der' });
fs.writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
fs.writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
const keyId = crypto.createHash('sha256').update(spki).digest('hex').slice(0, 16);
console.log(`key id ${keyId}`);
console.log(`private key: ${privateFile} (AUDIT_CHECKPOINT_KEY takes its PEM text, or that text base64-encoded)`);
console.log(`public key:  ${publicFile} (tenantctl audit verify --key ${publicFile})`);
