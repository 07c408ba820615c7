/**
 * The WebSocket terminal: what ends a route's pipeline for an upgrade (routes with
 * `websocket: true`). The upgrade has gone through the route's policies that take upgrades
 * (auth, rate-limit, streams' connection cap, transform's rewrite and request headers; see
 * `upgrades` in registry.ts) like any request, and a refusal was answered on the same
 * problem+json path. Here:
 * - the gateway opens its own WebSocket to an instance of the upstream with `ws` (ws:// or
 *   wss:// as the instance is http:// or https://), with the request's upstream headers (header
 *   hygiene, identity), the client's subprotocols and the route's timeout for the handshake;
 * - only once the upstream has accepted does it complete the client's handshake, with the
 *   subprotocol the upstream chose and the headers policies added (X-Request-Id, RateLimit);
 * - the two are joined message by message, not byte by byte (session.ts): every client
 *   message passes the checks policies registered (`ctx.upgrade.messages`: the rate limit,
 *   1008 past it); a message over the route's body limit closes with 1009; no message either
 *   way for the route's `idleTimeout` closes both with 1001;
 * - the session's end is its socket's close, which gives back what policies took for it
 *   (the connection slot): `ctx.res` stays on the socket for that, and to answer refusals.
 * Messages are not interpreted: a token sent in graphql-ws `connection_init` is the
 * upstream's to verify (the catalog does); the gateway checks only the upgrade's header.
 */

import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import { type Context, type Terminal, upstreamHeaders } from '../context.ts';
import { errors } from '../errors.ts';
import type { Upstream } from '../upstream/upstream.ts';
import { join } from './session.ts';

/** Headers `ws` writes itself for the upstream handshake: the client's belong to the client's. */
const HANDSHAKE = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
];

export interface WebSocketOptions {
  /** The longest wait for the upstream's handshake. */
  timeoutMs: number;
  /** The largest client message. */
  maxPayload: number;
  idleTimeoutMs: number;
  log: FastifyBaseLogger;
}

export function webSocket(upstream: Upstream, options: WebSocketOptions): Terminal {
  return async (ctx) => {
    const upgrade = ctx.upgrade!;
    ctx.upstream = upstream.name;
    const instance = upstream.pick();
    if (!instance) throw errors.CIRCUIT_OPEN(`${upstream.name} is unavailable`);
    const headers = { ...upstreamHeaders(ctx) };
    for (const name of HANDSHAKE) delete headers[name];
    const protocols = String(ctx.req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    // Joined as text, never resolved: a path such as `//host/…` cannot pick another host.
    const target = new URL(`${instance.url.replace(/^http/, 'ws')}${ctx.upstreamPath}`);
    const up = new WebSocket(target, protocols, {
      headers: headers as Record<string, string>,
      perMessageDeflate: false,
      handshakeTimeout: options.timeoutMs,
      followRedirects: false,
    });
    up.on('error', (err) =>
      options.log.debug({ err: err.message, request_id: ctx.id }, 'websocket upstream error'),
    );
    // The client gone before the upstream answered: stop waiting (not the instance's fault).
    const abort = () => up.terminate();
    upgrade.socket.once('close', abort);
    let refused: ((_request: unknown, response: IncomingMessage) => void) | undefined;
    let failed: ((err: Error) => void) | undefined;
    let opened: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        refused = (_request, response) => {
          const status = response.statusCode ?? 502;
          if (status >= 500) instance.breaker.failure();
          else instance.breaker.success();
          response.resume();
          up.terminate();
          reject(errors.UPSTREAM_ERROR(`${upstream.name} refused the WebSocket upgrade (${status})`));
        };
        failed = (err) => {
          if (!upgrade.socket.destroyed) instance.breaker.failure();
          reject(errors.UPSTREAM_ERROR(`${upstream.name} could not be reached`, { cause: err }));
        };
        opened = () => {
          instance.breaker.success();
          resolve();
        };
        up.once('unexpected-response', refused);
        up.once('error', failed);
        up.once('open', opened);
      });
    } finally {
      upgrade.socket.off('close', abort);
      up.off('unexpected-response', refused!);
      up.off('error', failed!);
      up.off('open', opened!);
    }
    if (upgrade.socket.destroyed) {
      up.terminate();
      throw new Error('the client went away during the handshake');
    }
    accept(ctx, up, options);
  };
}

/** Completes the client's handshake on the upstream's terms and joins the two sessions. */
function accept(ctx: Context, up: WebSocket, options: WebSocketOptions) {
  const { socket, head, messages } = ctx.upgrade!;
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: options.maxPayload,
    handleProtocols: () => up.protocol || false,
  });
  server.on('headers', (lines) => {
    lines.push(`X-Request-Id: ${ctx.id}`);
    for (const [name, value] of Object.entries(ctx.replyHeaders)) lines.push(`${name}: ${value}`);
  });
  server.handleUpgrade(ctx.req, socket, head, (client) => {
    join(client, up, {
      check: messages.length === 0 ? undefined : () => checkAll(messages),
      idleTimeoutMs: options.idleTimeoutMs,
      log: options.log,
      id: ctx.id,
    });
  });
}

async function checkAll(checks: Array<() => Promise<unknown>>) {
  for (const check of checks) await check();
}
