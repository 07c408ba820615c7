/**
 * Service-to-service calls: how a service tells "a dependency did not answer" from everything else.
 *
 * - Only a transport failure (refused, reset, closed, DNS, a timeout) or a bad answer from the
 *   dependency is "unavailable". An error the caller raised itself inside the call (a value that
 *   cannot go into a URL or header, a bug) is not: it is rethrown and ends as a 4xx or a 500.
 * - A 5xx that reports a dependency outage carries `Portico-Dependency-Failure: <dependency>`.
 *   The gateway reads it and does not count the answer against the instance's circuit breaker:
 *   the instance did its job (it answered, quickly, with the truth), so it stays in rotation
 *   for the requests that do not need that dependency.
 */

export const DEPENDENCY_FAILURE_HEADER = 'portico-dependency-failure';

/** Headers for a problem that reports `dependency` as unavailable: the marker and `Retry-After`. */
export function dependencyFailure(dependency: string, retryAfterSeconds = 5): Record<string, string> {
  return { [DEPENDENCY_FAILURE_HEADER]: dependency, 'retry-after': String(retryAfterSeconds) };
}

/** undici's codes for a dependency that did not answer, or stopped answering. */
const TRANSPORT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_ABORTED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/**
 * True when `err` says the other side did not answer: undici's transport errors, system socket
 * errors (`ECONNREFUSED`, `ECONNRESET`, `EPIPE`, `ENOTFOUND`, …), an `AbortSignal.timeout`, and
 * `fetch`'s "fetch failed" wrapping one of those. False for anything the caller threw itself.
 */
export function isTransportError(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; name?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    i++
  ) {
    if (typeof e.code === 'string' && (TRANSPORT_CODES.has(e.code) || /^E[A-Z_]+$/.test(e.code))) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    e = e.cause as typeof e;
  }
  return false;
}
