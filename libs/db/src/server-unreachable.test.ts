import { serverUnreachable } from './server-unreachable';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('serverUnreachable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a socket timeout', withCode('connect ETIMEDOUT', 'ETIMEDOUT')],
    ['no route to the host', withCode('connect EHOSTUNREACH', 'EHOSTUNREACH')],
    ['admin_shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['crash_shutdown', withCode('terminating connection due to crash of another server process', '57P02')],
    ['cannot_connect_now', withCode('the database system is starting up', '57P03')],
    ['connection_failure', withCode('connection failure', '08006')],
    ['unable to establish a connection', withCode('could not connect', '08001')],
    ["pg-pool's connect deadline", new Error('timeout exceeded when trying to connect')],
    ["pg's connect deadline", new Error('Connection terminated due to connection timeout')],
    ['a connection cut by the server', new Error('Connection terminated unexpectedly')],
    ['a refusal that lost its code', new Error('connect ECONNREFUSED 127.0.0.1:5433')],
    ['a timeout with no code', new Error('timeout expired')],
  ])('says %s is an unreachable server', (_name, err) => {
    expect(serverUnreachable(err)).toBe(true);
  });

  it.each([
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a statement timeout (the query, not the server)', withCode('canceling statement due to statement timeout', '57014')],
    ['a plain error', new Error('x is undefined')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
    ['null', null],
  ])('says %s is not', (_name, err) => {
    expect(serverUnreachable(err)).toBe(false);
  });
});
