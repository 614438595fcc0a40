import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { keyEncryptionKeyVariables } from '@fairway/crypto';
import { BackupKeyring, loadBackupKeyring } from './backup-keys';

describe('the operator backup keys', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-backup-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const key = () => randomBytes(32).toString('base64');

  it('reads FAIRWAY_BACKUP_KEY_<ID>, the current one named when there are several, and unwraps what it wrapped', () => {
    const ring = loadBackupKeyring(
      { FAIRWAY_BACKUP_KEY_OPS1: key(), FAIRWAY_BACKUP_KEY_OPS2: key(), FAIRWAY_BACKUP_KEY_CURRENT: 'ops2' },
      path.join(dir, 'unused.json'),
    )!;
    expect(ring.currentId).toBe('ops2');
    const archiveKey = randomBytes(32);
    const { keyId, wrapped } = ring.wrap(archiveKey, 'ctx');
    expect(ring.unwrap(keyId, wrapped, 'ctx').equals(archiveKey)).toBe(true);
    expect(() => ring.unwrap(keyId, wrapped, 'other context')).toThrow();
    expect(JSON.stringify({ ring })).not.toContain(wrapped.toString('base64'));
  });

  const refused: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['a short key', { FAIRWAY_BACKUP_KEY_OPS1: randomBytes(16).toString('base64') }, /FAIRWAY_BACKUP_KEY_OPS1 must be 32 random bytes/],
    ['several keys and no current', { FAIRWAY_BACKUP_KEY_A: key(), FAIRWAY_BACKUP_KEY_B: key() }, /FAIRWAY_BACKUP_KEY_CURRENT must name/],
    ['a current id without a key', { FAIRWAY_BACKUP_KEY_A: key(), FAIRWAY_BACKUP_KEY_CURRENT: 'b' }, /current backup key 'b' is not configured/],
  ];
  it.each(refused)('refuses %s, naming the variable', (_name, env, message) => {
    expect(() => loadBackupKeyring(env, path.join(dir, 'unused.json'))).toThrow(message);
  });

  it('refuses a backup key that is also a key-encryption key: the KEK alone must not open archives', () => {
    const shared = key();
    expect(() => loadBackupKeyring({ FAIRWAY_KEK_V1: shared, FAIRWAY_BACKUP_KEY_OPS: shared }, path.join(dir, 'unused.json'))).toThrow(
      /FAIRWAY_BACKUP_KEY_OPS must not be a key-encryption key/,
    );
  });

  it('makes a development key file (mode 0600) outside production, and none in production', () => {
    const file = path.join(dir, 'dev', 'backup.json');
    const ring = loadBackupKeyring({ NODE_ENV: 'development' }, file);
    expect(ring).toBeInstanceOf(BackupKeyring);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadBackupKeyring({ NODE_ENV: 'development' }, file)?.currentId).toBe(ring?.currentId);
    expect(loadBackupKeyring({ NODE_ENV: 'production' }, path.join(dir, 'prod.json'))).toBeUndefined();
  });

  it('counts backup keys among the secrets the edge and the workers refuse to hold', () => {
    expect(keyEncryptionKeyVariables({ FAIRWAY_BACKUP_KEY_OPS1: key(), FAIRWAY_KEK_V1: key(), OTHER: 'x' }).sort()).toEqual([
      'FAIRWAY_BACKUP_KEY_OPS1',
      'FAIRWAY_KEK_V1',
    ]);
  });
});
