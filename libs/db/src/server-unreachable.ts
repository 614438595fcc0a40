/**
 * Socket codes and SQLSTATEs of a PostgreSQL server that is gone, restarting or refusing
 * connections: the connection was refused, reset, timed out or had no route; admin_shutdown,
 * crash_shutdown, cannot_connect_now (57P01-03); connection_failure and
 * sqlclient_unable_to_establish_sqlconnection (08006, 08001).
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08001', '08006']);

/**
 * Failures that carry no code: pg-pool's connect deadline ("timeout exceeded when trying to
 * connect"), pg's own ("Connection terminated due to connection timeout", "timeout expired"), a
 * connection the server cut ("Connection terminated unexpectedly") and a refused connect whose
 * code was lost on the way ("connect ECONNREFUSED").
 */
const UNREACHABLE_MESSAGE = /Connection terminated|connect ECONNREFUSED|timeout expired|timeout exceeded when trying to connect/i;

/**
 * Whether `err` says the database server could not be reached or went away, not that the
 * statement was wrong: the one classifier behind the read replica's fallback to the primary and
 * the HTTP servers' 503 DATABASE_UNAVAILABLE (#18's chaos suite found a PostgreSQL restart
 * answered with 500).
 */
export function serverUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && UNREACHABLE_MESSAGE.test(message);
}
