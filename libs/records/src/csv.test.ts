import { Readable } from 'node:stream';
import { CsvEncoder, csvField } from './csv';

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=SUM(A1)', "'=SUM(A1)"],
    ['+1', "'+1"],
    ['@cmd', "'@cmd"],
    ['', ''],
  ])('encodes the text %j as %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('leaves non-text cells (amounts, ids) without the formula guard', () => {
    expect(csvField('-12.50', false)).toBe('-12.50');
    expect(csvField(null, false)).toBe('');
    expect(csvField(new Date('2026-01-02T03:04:05.000Z'), false)).toBe('2026-01-02T03:04:05.000Z');
  });
});

describe('CsvEncoder', () => {
  const columns = [
    { header: 'id', value: (r: { id: number; name: string }) => r.id },
    { header: 'name', value: (r: { id: number; name: string }) => r.name, text: true },
  ];

  async function encode(rows: Array<{ id: number; name: string }>): Promise<string> {
    let out = '';
    const encoder = Readable.from(rows).pipe(new CsvEncoder(columns));
    for await (const chunk of encoder) out += String(chunk);
    return out;
  }

  it('writes the header once, then one CRLF line per row', async () => {
    expect(
      await encode([
        { id: 1, name: 'a' },
        { id: 2, name: 'b,c' },
      ]),
    ).toBe('id,name\r\n1,a\r\n2,"b,c"\r\n');
  });

  it('writes the header alone for no rows', async () => {
    expect(await encode([])).toBe('id,name\r\n');
  });
});
