/**
 * Requests that are not well-formed HTTP/1.1, answered as problem+json like every other refusal:
 * - what Node's parser refuses before any handler runs (`clientError`: bad framing such as
 *   Content-Length with Transfer-Encoding, oversized headers, a slow request), which Fastify
 *   would answer in a JSON shape of its own;
 * - a Host header sent twice (RFC 9112 §3.2: a server MUST answer 400) or an Authorization
 *   header sent twice (RFC 6750 §2: one credential per request). Node keeps the first of
 *   each and drops the rest, where a proxy before it may have read the last.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { defineErrors, PROBLEM_CONTENT_TYPE } from '@portico/problem';

const errors = defineErrors({
  MALFORMED_REQUEST: { status: 400, title: 'Bad Request' },
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
});

/** The name of a header that must come once and came more than once, if any. */
export function repeatedSingleHeader(rawHeaders: readonly string[]): string | undefined {
  let host = 0;
  let authorization = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') host++;
    else if (name.length === 13 && name.toLowerCase() === 'authorization') authorization++;
  }
  return host > 1 ? 'Host' : authorization > 1 ? 'Authorization' : undefined;
}

export function repeatedHeaderProblem(name: string) {
  return errors.MALFORMED_REQUEST(`The ${name} header must be sent once`);
}

/** Node's `clientError`: the request never reached a handler; answer and close. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? errors.HEADERS_TOO_LARGE('The request headers are larger than this server accepts')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? errors.REQUEST_TIMEOUT('The request did not arrive in time')
        : errors.MALFORMED_REQUEST(`The request is not well-formed HTTP/1.1 (${err.code ?? 'parse error'})`);
  if (socket.writable) {
    const body = JSON.stringify(problem.toProblem());
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
