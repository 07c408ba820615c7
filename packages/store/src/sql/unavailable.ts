/**
 * "The database did not answer" as one error, told apart from everything a query can fail with
 * on a database that answered (a constraint, a syntax error, a serialization failure).
 * `@portico/http` answers it as a 503 `DATABASE_UNAVAILABLE` marked
 * `Portico-Dependency-Failure: database`, so the gateway does not hold the outage against the
 * instance that reports it.
 */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  readonly dependency = 'database';
}

/** pg-pool's and pg's own messages for a wait that ran out or a connection that ended. */
const MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/**
 * SQLSTATEs of a database that cannot serve now: connection exceptions (class 08),
 * too many connections, a statement timeout, an administrator or crash shutdown, starting up.
 */
const STATES = new Set(['53300', '57014', '57P01', '57P02', '57P03']);

export function isUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (STATES.has(code) || code.startsWith('08')) return true;
  // Socket errors: ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, ENOTFOUND, EHOSTUNREACH…
  if (/^E[A-Z]+$/.test(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return MESSAGES.some((m) => message.startsWith(m));
}
