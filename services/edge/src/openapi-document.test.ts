import { errorCatalog } from '@fairway/errors';
import { openApiDocument, PUBLIC_ROUTES } from './api-schemas';

interface Operation {
  operationId?: string;
  security?: unknown[];
  tags?: string[];
  responses: Record<string, unknown>;
}
interface Document {
  info: { license?: { name: string } };
  paths: Record<string, Record<string, Operation>>;
}

describe('the public OpenAPI document', () => {
  const document = openApiDocument() as Document;
  const operations = Object.entries(document.paths).flatMap(([p, methods]) => Object.entries(methods).map(([method, op]) => ({ method, path: p, op })));

  it('lists exactly the public routes, records included, and no admin route', () => {
    expect(operations.map(({ method, path: p }) => `${method} ${p}`).sort()).toEqual(PUBLIC_ROUTES.map(([method, p]) => `${method} ${p}`).sort());
    expect(Object.keys(document.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
  });

  it('gives every operation a unique operationId, a tag and a stated security (empty only for the unauthenticated ones)', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path: p, op } of operations) {
      expect(op.tags?.length).toBeGreaterThan(0);
      expect(op.security).toBeDefined();
      const open = ['/openapi.json', '/healthz', '/readyz'].includes(p);
      expect(op.security?.length === 0).toBe(open);
      // An operation behind a credential documents what a refused credential answers.
      if (!open) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
    expect(document.info.license?.name).toBe('Apache-2.0');
  });

  it('documents AUTHENTICATION_THROTTLED among the problem codes', () => {
    expect(JSON.stringify(document)).toContain('AUTHENTICATION_THROTTLED');
    expect(errorCatalog.AUTHENTICATION_THROTTLED.http).toBe(429);
  });
});
