/**
 * WebSocket upgrade pass-through (GraphQL subscriptions use it): the handshake goes to an
 * instance of the route's upstream with the same header hygiene as any request, then the
 * two sockets are piped both ways until either side closes. Only routes with
 * `websocket: true` accept upgrades; the route's auth rule applies to the handshake.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type AccessClaims, AuthError, isAllowed } from '@portico/auth';
import { isProblemError, PROBLEM_CONTENT_TYPE, type ProblemError } from '@portico/problem';
import type { FastifyBaseLogger } from 'fastify';
import { errors } from './errors.ts';
import {
  clientAddress,
  type TrustProxy,
  USER_ID_HEADER,
  USER_ROLES_HEADER,
  upstreamRequestHeaders,
} from './headers.ts';
import { ruleFor, type Verify } from './policies/auth/index.ts';
import type { CompiledRoute } from './runtime.ts';

export function proxyUpgrade(options: {
  route: CompiledRoute | undefined;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  verify: Verify;
  trustProxy: TrustProxy;
  log: FastifyBaseLogger;
}) {
  const { route, req, socket, head, log } = options;
  const id = randomUUID();
  socket.on('error', () => socket.destroy());
  const path = (req.url ?? '/').split('?')[0]!;
  if (!route?.def.websocket || !route.upstream) {
    refuse(socket, errors.ROUTE_NOT_FOUND(`No WebSocket route at ${path}`), id, path);
    return;
  }
  const upstream = route.upstream;
  void (async () => {
    const ip = clientAddress(req, options.trustProxy);
    const headers = upstreamRequestHeaders(req, id, ip, true);
    const rule = ruleFor(route.def.auth, 'GET');
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    let claims: AccessClaims | undefined;
    try {
      claims = token ? await options.verify(token) : undefined;
    } catch (err) {
      refuse(
        socket,
        isProblemError(err) ? err : new AuthError('invalid_token', 'The access token is invalid'),
        id,
        path,
      );
      return;
    }
    if (rule !== 'public') {
      if (!claims) {
        refuse(socket, new AuthError(undefined, 'This route needs an access token'), id, path);
        return;
      }
      if (rule !== 'token' && !isAllowed(claims, rule)) {
        refuse(
          socket,
          new AuthError('insufficient_scope', 'This route needs another role or scope'),
          id,
          path,
        );
        return;
      }
    }
    if (claims) {
      headers[USER_ID_HEADER] = claims.sub;
      headers[USER_ROLES_HEADER] = claims.roles.join(',');
    }
    const instance = upstream.pick();
    if (!instance) {
      refuse(socket, errors.CIRCUIT_OPEN(`${upstream.name} is unavailable`), id, path);
      return;
    }
    const target = new URL(instance.url);
    const upstreamSocket = connect(Number(target.port || 80), target.hostname);
    upstreamSocket.setNoDelay(true);
    upstreamSocket.on('connect', () => {
      instance.breaker.success();
      headers.host = target.host;
      let head_ = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (const [name, value] of Object.entries(headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) head_ += `${name}: ${v}\r\n`;
      }
      upstreamSocket.write(`${head_}\r\n`);
      if (head.length > 0) upstreamSocket.write(head);
      socket.pipe(upstreamSocket).pipe(socket);
    });
    upstreamSocket.on('error', (err) => {
      if (!upstreamSocket.readyState || upstreamSocket.connecting) {
        instance.breaker.failure();
        refuse(socket, errors.UPSTREAM_ERROR(`${upstream.name} could not be reached`), id, path);
      } else socket.destroy();
      log.debug({ err: err.message, request_id: id }, 'websocket upstream error');
    });
    upstreamSocket.on('close', () => socket.destroy());
    socket.on('close', () => upstreamSocket.destroy());
  })();
}

function refuse(socket: Duplex, problem: ProblemError, id: string, path: string) {
  const body = JSON.stringify(problem.toProblem(id, path));
  const status = problem.status;
  const reason = problem.title;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${Object.entries(
      problem.headers,
    )
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}X-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
  );
}
