/**
 * WebSocket sessions through the gateway (GraphQL subscriptions use them), held to the same
 * edge as HTTP requests. Only routes with `websocket: true` accept upgrades.
 *
 * At the upgrade (a GET, answered with problem+json when refused):
 * - the route's auth rule for GET, through the same authenticator as HTTP (Authorization
 *   header via parseBearer; failed tokens metered per address);
 * - one hit on the consumer's rate-limit bucket for the route;
 * - a slot of the consumer's connection cap on the route (429 past `maxConnections`).
 * Then the gateway opens its own WebSocket to an instance of the upstream (ws:// or wss://,
 * with the same header hygiene and identity headers as any request), and only once the
 * upstream has accepted does it complete the client's handshake, with the subprotocol the
 * upstream chose. The two are joined message by message, not byte by byte, so:
 * - every client message is one more hit on the same bucket (close 1008 past the limit);
 * - a client message larger than the route's body limit closes the session with 1009;
 * - no message either way for the route's `idleTimeout` closes both sides with 1001.
 * Messages are not interpreted: a token sent in graphql-ws `connection_init` is the
 * upstream's to verify (the catalog does); the gateway checks only the upgrade's header.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientAddress, requestIdFrom, type TrustProxy } from '@portico/http';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import type { Connections } from '../connections.ts';
import { consumerFor } from '../context.ts';
import { errors } from '../errors.ts';
import { USER_ID_HEADER, USER_ROLES_HEADER, upstreamRequestHeaders } from '../headers.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { CompiledRoute } from '../runtime.ts';
import { refuse } from './refuse.ts';
import { join } from './session.ts';

export interface UpgradeOptions {
  route: CompiledRoute | undefined;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  trustProxy: TrustProxy;
  connections: Connections;
  metrics: GatewayMetrics;
  log: FastifyBaseLogger;
  /** The longest wait for the upstream's handshake. */
  timeoutMs: number;
}

/** Headers `ws` writes itself for the upstream handshake: the client's belong to the client's. */
const HANDSHAKE = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
];

export function proxyUpgrade(options: UpgradeOptions): void {
  const { route, req, socket, head, log, metrics } = options;
  const id = requestIdFrom(req);
  const started = performance.now();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? '' : url.slice(q);
  socket.on('error', () => socket.destroy());
  let consumer = '';
  const done = (status: number) =>
    metrics.request(
      route?.name ?? '-',
      'GET',
      status,
      route?.def.upstream ?? '-',
      (performance.now() - started) / 1000,
      consumer || '-',
    );

  if (!route?.def.websocket || !route.upstream) {
    refuse(req, socket, errors.ROUTE_NOT_FOUND(`No WebSocket route at ${path}`), id, path);
    return;
  }
  const upstream = route.upstream;
  const edge = route.edge;

  void (async () => {
    let release: (() => void) | undefined;
    try {
      const claims = await edge.authenticate(req, 'GET', search, options.trustProxy);
      consumer = consumerFor(req, options.trustProxy, claims);
      const hits = await edge.limit?.(consumer);
      release = options.connections.acquire(`${route.name}:${consumer}`, edge.maxConnections);
      if (socket.destroyed) throw new Error('client went away');
      const instance = upstream.pick();
      if (!instance) throw errors.CIRCUIT_OPEN(`${upstream.name} is unavailable`);

      const headers = upstreamRequestHeaders(req, id, clientAddress(req, options.trustProxy));
      for (const name of HANDSHAKE) delete headers[name];
      if (claims) {
        headers[USER_ID_HEADER] = claims.sub;
        headers[USER_ROLES_HEADER] = claims.roles.join(',');
      }
      const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      // Joined as text, never resolved: a path such as `//host/…` cannot pick another host.
      const target = new URL(`${instance.url.replace(/^http/, 'ws')}${edge.transform(url, headers)}`);
      const up = new WebSocket(target, protocols, {
        headers: headers as Record<string, string>,
        perMessageDeflate: false,
        handshakeTimeout: options.timeoutMs,
        followRedirects: false,
      });
      let settled = false;
      const abort = () => up.terminate();
      socket.once('close', abort);

      up.once('unexpected-response', (_request, response) => {
        settled = true;
        socket.off('close', abort);
        if ((response.statusCode ?? 502) >= 500) instance.breaker.failure();
        else instance.breaker.success();
        response.resume();
        up.terminate();
        const status = response.statusCode ?? 502;
        release?.();
        refuse(
          req,
          socket,
          errors.UPSTREAM_ERROR(`${upstream.name} refused the WebSocket upgrade (${status})`),
          id,
          path,
        );
        done(502);
      });
      up.on('error', (err) => {
        if (!settled) {
          settled = true;
          socket.off('close', abort);
          instance.breaker.failure();
          release?.();
          refuse(req, socket, errors.UPSTREAM_ERROR(`${upstream.name} could not be reached`), id, path);
          done(502);
        }
        log.debug({ err: err.message, request_id: id }, 'websocket upstream error');
      });
      up.once('open', () => {
        settled = true;
        socket.off('close', abort);
        instance.breaker.success();
        if (socket.destroyed) {
          up.terminate();
          release?.();
          return;
        }
        const server = new WebSocketServer({
          noServer: true,
          clientTracking: false,
          perMessageDeflate: false,
          maxPayload: edge.bodyLimit,
          handleProtocols: () => up.protocol || false,
        });
        server.on('headers', (lines) => {
          lines.push(`X-Request-Id: ${id}`);
          for (const [name, value] of Object.entries(hits ?? {})) lines.push(`${name}: ${value}`);
        });
        server.handleUpgrade(req, socket, head, (client) => {
          done(101);
          join(client, up, {
            limit: edge.limit ? () => edge.limit!(consumer) : undefined,
            idleTimeoutMs: edge.idleTimeoutMs,
            onClose: () => release?.(),
            log,
            id,
          });
        });
      });
    } catch (err) {
      release?.();
      const problem = refuse(req, socket, err, id, path);
      done(problem?.status ?? 499);
    }
  })();
}
