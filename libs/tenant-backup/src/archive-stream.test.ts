import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ARCHIVE_MAGIC, FRAME_BYTES, openArchive, readArchiveHeader, sealArchive, type ArchiveHeader } from './archive-stream';
import { BackupKeyring } from './backup-keys';
import { BackupInvalidError } from './errors';

const keyring = new BackupKeyring({ k1: randomBytes(32), k2: randomBytes(32) }, 'k1');

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function seal(plaintext: Buffer, ring = keyring): Promise<{ archive: Buffer; header: ArchiveHeader }> {
  const { stream, header } = sealArchive(ring, 'acme');
  // Written in uneven pieces, as rows arrive.
  const [archive] = await Promise.all([collect(stream), pipeline(Readable.from(splitEvery(plaintext, 10_000)), stream)]);
  return { archive, header };
}

function* splitEvery(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function open(archive: Buffer, ring = keyring, pieceSize = 7_001): Promise<Buffer> {
  const reader = openArchive(ring);
  const [plaintext] = await Promise.all([collect(reader), pipeline(Readable.from(splitEvery(archive, pieceSize)), reader)]);
  return plaintext;
}

/** Offsets of each frame in an archive (after the clear header). */
function frames(archive: Buffer): Array<{ start: number; end: number }> {
  let at = ARCHIVE_MAGIC.length + 4 + archive.readUInt32BE(ARCHIVE_MAGIC.length);
  const list = [];
  while (at < archive.length) {
    const end = at + 4 + archive.readUInt32BE(at) + 16;
    list.push({ start: at, end });
    at = end;
  }
  return list;
}

describe('backup archive framing', () => {
  const plaintext = randomBytes(3 * FRAME_BYTES + 1234);

  it('round-trips any content through frames of at most 64 KiB, read in any piece size', async () => {
    const { archive, header } = await seal(plaintext);
    expect(frames(archive)).toHaveLength(4);
    expect(readArchiveHeader(archive)).toEqual(header);
    expect(header.backupKeyId).toBe('k1');
    for (const piece of [1, 4096, 1 << 20]) expect((await open(archive, keyring, piece)).equals(plaintext)).toBe(true);
  });

  it('round-trips an empty archive (one final frame)', async () => {
    const { archive } = await seal(Buffer.alloc(0));
    expect(frames(archive)).toHaveLength(1);
    expect((await open(archive)).length).toBe(0);
  });

  it('never leaves the plaintext readable in the archive', async () => {
    const marker = Buffer.from('marker-7f3a9c'.repeat(100));
    const { archive } = await seal(marker);
    expect(archive.includes(Buffer.from('marker-7f3a9c'))).toBe(false);
  });

  const refusals: Array<[string, (archive: Buffer) => Buffer, RegExp]> = [
    ['a flipped bit in a frame', (a) => flip(a, frames(a)[1]!.start + 100), /frame 1 does not authenticate/],
    ['a flipped bit in the clear header', (a) => flip(a, ARCHIVE_MAGIC.length + 20), /header|unwrap|authenticate/],
    ['a dropped frame', (a) => Buffer.concat([a.subarray(0, frames(a)[1]!.start), a.subarray(frames(a)[1]!.end)]), /frame 1 does not authenticate/],
    [
      'two frames swapped',
      (a) => {
        const [, f1, f2] = frames(a);
        return Buffer.concat([a.subarray(0, f1!.start), a.subarray(f2!.start, f2!.end), a.subarray(f1!.start, f1!.end), a.subarray(f2!.end)]);
      },
      /frame 1 does not authenticate/,
    ],
    ['a cut at a frame boundary (no final frame)', (a) => a.subarray(0, frames(a)[2]!.end), /truncated after frame 3/],
    ['a cut inside a frame', (a) => a.subarray(0, frames(a)[2]!.start + 50), /truncated/],
    ['bytes after the final frame', (a) => Buffer.concat([a, Buffer.from('x')]), /after its final frame/],
    ['not an archive', () => Buffer.from('PGDMP not ours at all'), /not a Fairway backup archive/],
    ['nothing at all', () => Buffer.alloc(0), /empty or truncated/],
  ];
  it.each(refusals)('refuses %s', async (_name, tamper, message) => {
    const { archive } = await seal(plaintext);
    const error = await open(tamper(archive)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BackupInvalidError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a frame spliced in from another archive of the same tenant and key', async () => {
    const a = (await seal(plaintext)).archive;
    const b = (await seal(plaintext)).archive;
    const [, fa] = frames(a);
    const [, fb] = frames(b);
    const spliced = Buffer.concat([a.subarray(0, fa!.start), b.subarray(fb!.start, fb!.end), a.subarray(fa!.end)]);
    await expect(open(spliced)).rejects.toThrow(/frame 1 does not authenticate/);
  });

  it('names the backup key an archive needs when this keyring lacks it', async () => {
    const other = new BackupKeyring({ old: randomBytes(32) }, 'old');
    const { archive } = await seal(plaintext, other);
    await expect(open(archive)).rejects.toThrow(/backup key 'old'.*FAIRWAY_BACKUP_KEY_OLD/);
  });

  it('refuses an archive whose key id names a different key than it was sealed with', async () => {
    const impostor = new BackupKeyring({ k1: randomBytes(32) }, 'k1');
    const { archive } = await seal(plaintext, impostor);
    await expect(open(archive)).rejects.toThrow(/does not unwrap with backup key 'k1'/);
  });
});

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}
