import { generateKeyPairSync } from 'node:crypto';
import {
  checkpointKeyId,
  parseCheckpointPrivateKey,
  parseCheckpointPublicKey,
  readAuditCheckpoints,
  signCheckpoint,
  type AuditCheckpoint,
} from './checkpoints';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const h = (c: string) => c.repeat(64);

function fileOf(...checkpoints: AuditCheckpoint[]): string {
  return `${checkpoints.map((c) => JSON.stringify(c)).join('\n')}\n`;
}

describe('readAuditCheckpoints', () => {
  const first = signCheckpoint({ acme: { seq: '3', hash: h('a') }, global: { seq: '1', hash: h('b') } }, privateKey, new Date(Date.UTC(2026, 0, 1)));
  const second = signCheckpoint({ acme: { seq: '5', hash: h('c') }, global: { seq: '1', hash: h('b') } }, privateKey, new Date(Date.UTC(2026, 0, 2)));

  it('returns the highest signed head of every chain, with the time of its checkpoint', () => {
    expect(readAuditCheckpoints(fileOf(first, second), publicKey)).toEqual({
      ok: true,
      lines: 2,
      latestAt: '2026-01-02T00:00:00.000Z',
      heads: { acme: { seq: '5', hash: h('c'), at: '2026-01-02T00:00:00.000Z' }, global: { seq: '1', hash: h('b'), at: '2026-01-01T00:00:00.000Z' } },
    });
  });

  it.each<[string, (c: AuditCheckpoint) => AuditCheckpoint]>([
    ['a lowered seq', (c) => ({ ...c, heads: { ...c.heads, acme: { seq: '1', hash: h('c') } } })],
    ['a changed hash', (c) => ({ ...c, heads: { ...c.heads, acme: { seq: '5', hash: h('d') } } })],
    ['a removed chain', (c) => ({ ...c, heads: { global: c.heads['global']! } })],
    ['another time', (c) => ({ ...c, at: '2030-01-01T00:00:00.000Z' })],
    ['a signature of another line', (c) => ({ ...c, sig: first.sig })],
  ])('refuses a checkpoint with %s under its old signature', (_name, tamper) => {
    const result = readAuditCheckpoints(fileOf(first, tamper(second)), publicKey);
    expect(result).toEqual({ ok: false, line: 2, reason: expect.stringMatching(/line 2: the signature does not verify/) });
  });

  it('refuses a checkpoint signed by another key, naming both keys', () => {
    const other = generateKeyPairSync('ed25519');
    const forged = signCheckpoint({ acme: { seq: '9', hash: h('e') } }, other.privateKey, new Date(0));
    const result = readAuditCheckpoints(fileOf(first, forged), publicKey);
    expect(result).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining(`signed by key ${checkpointKeyId(other.publicKey)}`) });
  });

  it('refuses a file in which a chain went backwards between two validly signed checkpoints', () => {
    const later = signCheckpoint({ acme: { seq: '2', hash: h('f') } }, privateKey, new Date(Date.UTC(2026, 0, 3)));
    expect(readAuditCheckpoints(fileOf(first, later), publicKey)).toMatchObject({
      ok: false,
      line: 2,
      reason: expect.stringMatching(/went back from seq 3.*to seq 2/),
    });
    const rewritten = signCheckpoint({ acme: { seq: '3', hash: h('f') } }, privateKey, new Date(Date.UTC(2026, 0, 3)));
    expect(readAuditCheckpoints(fileOf(first, rewritten), publicKey)).toMatchObject({ ok: false, reason: expect.stringMatching(/different hash at seq 3/) });
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['not a checkpoint', '{"v":2}'],
    ['a malformed seq', JSON.stringify({ ...first, heads: { acme: { seq: '-1', hash: h('a') } } })],
  ])('refuses a line that is %s', (_name, line) => {
    expect(readAuditCheckpoints(`${JSON.stringify(first)}\n${line}\n`, publicKey)).toMatchObject({ ok: false, line: 2 });
  });
});

describe('checkpoint keys', () => {
  it('reads PEM or base64 PEM, and derives the public key from a private one', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const fromPem = parseCheckpointPrivateKey(pem);
    const fromB64 = parseCheckpointPrivateKey(Buffer.from(pem).toString('base64'));
    expect(checkpointKeyId(fromPem)).toBe(checkpointKeyId(publicKey));
    expect(checkpointKeyId(fromB64)).toBe(checkpointKeyId(publicKey));
    expect(checkpointKeyId(parseCheckpointPublicKey(pem))).toBe(checkpointKeyId(publicKey));
    expect(checkpointKeyId(parseCheckpointPublicKey(publicKey.export({ type: 'spki', format: 'pem' }).toString()))).toBe(checkpointKeyId(publicKey));
  });

  it('refuses a key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parseCheckpointPrivateKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toThrow(/must be an Ed25519 key \(got rsa\)/);
  });
});
