import { whatIfOpenApiDocument } from './what-if-openapi';

describe('the OpenAPI document of the what-if operations', () => {
  it('documents both operations from the schemas the routes validate with, behind operator auth', () => {
    const doc = whatIfOpenApiDocument() as {
      paths: Record<
        string,
        Record<string, { security: unknown; parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, unknown> } }>
      >;
    };
    const trace = doc.paths['/admin/v1/trace']?.['get'];
    const whatIf = doc.paths['/admin/v1/what-if']?.['post'];
    expect(trace?.security).toEqual([{ operator: [] }]);
    expect(trace?.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['query:since', 'query:tenant', 'query:until']);
    expect(Object.keys(whatIf?.requestBody?.content ?? {}).sort()).toEqual(['application/json', 'application/x-ndjson']);
    expect(JSON.stringify(doc)).toContain('"changes"');
  });
});
