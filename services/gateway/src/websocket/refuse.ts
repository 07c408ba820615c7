/**
 * A refused WebSocket upgrade answers like any refused request: a status, problem+json and
 * the problem's headers (WWW-Authenticate, Retry-After, RateLimit…), serialised by Node's
 * own HTTP response on the upgrade's socket, then the socket is closed.
 */
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, type ProblemError } from '@portico/problem';
import { problemBody, toProblem } from '../reply.ts';

/**
 * A response written on an upgrade's socket, as Node's server would for a request: a refusal
 * goes out through it, after which the socket is closed; its `close` is the socket's.
 */
export function upgradeResponse(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  res.assignSocket(socket as Socket);
  res.shouldKeepAlive = false;
  // Closed once the answer is flushed, without waiting for the client's side of the close.
  res.once('finish', () => {
    socket.once('finish', () => socket.destroy());
    socket.end();
  });
  return res;
}

/** Refuses an upgrade no route takes (no route, an unsafe path). */
export function refuse(
  req: IncomingMessage,
  socket: Duplex,
  err: unknown,
  id: string,
  path: string,
): ProblemError | undefined {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return undefined;
  }
  const problem = toProblem(err);
  const body = JSON.stringify(problemBody(problem, id, path));
  const res = upgradeResponse(req, socket);
  res.writeHead(problem.status, {
    ...problem.headers,
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': id,
    connection: 'close',
  });
  res.end(body);
  return problem;
}
