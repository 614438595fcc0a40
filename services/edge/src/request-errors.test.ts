import { NotFoundError } from '@fairway/errors';
import { malformedRequestError } from './request-errors';

/** An error shaped as Express's router or body-parser raises it. */
const raised = <E extends Error>(err: E, fields: Record<string, unknown>): E => Object.assign(err, fields);
const zlibError = (code: string) => raised(new Error('incorrect header check'), { code, status: 400 });

describe('malformedRequestError', () => {
  it.each([
    [
      "a path segment that does not decode (the router's URIError)",
      raised(new URIError("Failed to decode param '%C3%28'"), { status: 400 }),
      'VALIDATION_FAILED',
    ],
    ['a body over the limit', raised(new Error('request entity too large'), { status: 413, type: 'entity.too.large' }), 'PAYLOAD_TOO_LARGE'],
    [
      'an unknown Content-Encoding',
      raised(new Error('unsupported content encoding "x"'), { status: 415, type: 'encoding.unsupported' }),
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['an unknown charset', raised(new Error('unsupported charset "UTF-7"'), { status: 415, type: 'charset.unsupported' }), 'UNSUPPORTED_MEDIA_TYPE'],
    ['gzip that is not gzip', zlibError('Z_DATA_ERROR'), 'MALFORMED_JSON'],
    ['a truncated gzip body', zlibError('Z_BUF_ERROR'), 'MALFORMED_JSON'],
    ['br that is not br', zlibError('ERR__ERROR_FORMAT_PADDING_1_BROTLI'), 'MALFORMED_JSON'],
    ['JSON that does not parse', raised(new SyntaxError('Unexpected token'), { status: 400, type: 'entity.parse.failed' }), 'MALFORMED_JSON'],
    ['a body the client stopped sending', raised(new Error('request aborted'), { status: 400, type: 'request.aborted' }), 'MALFORMED_JSON'],
  ])('makes %s a %s', (_name, err, code) => {
    expect(malformedRequestError(err)?.code).toBe(code);
  });

  it.each([
    ['a catalog error (already decided)', new NotFoundError('job', 'x')],
    ['an error with no status (a bug: stays a 500)', new TypeError('x is undefined')],
    ['an error with a 5xx status', raised(new Error('upstream'), { status: 502 })],
    ['a thrown string', 'boom'],
    ['null', null],
  ])('leaves %s alone', (_name, err) => {
    expect(malformedRequestError(err)).toBeUndefined();
  });
});
