import { readFileSync } from 'node:fs';
import path from 'node:path';
import { errorCatalog, isErrorCode, type ErrorCode } from './catalog';
import { toProblem } from './problem';
import { RemoteError } from './errors';

/** docs/errors.md split into its `## CODE` sections. */
function documentedSections(): Map<string, string> {
  const text = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
  const sections = new Map<string, string>();
  for (const part of text.split(/^## /m).slice(1)) {
    const [heading, ...body] = part.split('\n');
    sections.set((heading ?? '').trim(), body.join('\n'));
  }
  return sections;
}

describe('the error catalog', () => {
  const sections = documentedSections();
  const codes = Object.keys(errorCatalog) as ErrorCode[];

  it.each(codes)('documents %s in docs/errors.md with its HTTP status, gRPC status, meaning and remedy', (code) => {
    const section = sections.get(code);
    expect(section).toBeDefined();
    expect(section).toContain(`- HTTP status: ${errorCatalog[code].http}`);
    expect(section).toContain(`- gRPC status: ${errorCatalog[code].grpc}`);
    expect(section).toMatch(/- Meaning: \S/);
    expect(section).toMatch(/- What to do: \S/);
  });

  it('documents no code that the catalog does not have', () => {
    expect([...sections.keys()].filter((heading) => !isErrorCode(heading))).toEqual([]);
  });

  it('turns a remote error back into a problem with the remote code', () => {
    const problem = toProblem(new RemoteError('NOT_FOUND', "tenant 'x' not found", false), '/admin/v1/tenants/x');
    expect(problem).toMatchObject({ status: 404, code: 'NOT_FOUND', detail: "tenant 'x' not found", instance: '/admin/v1/tenants/x' });
  });
});
