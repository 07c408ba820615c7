/**
 * The gateway service: `build(config)` returns a Fastify server (what `npm start` and
 * `runService` expect). Fastify serves the gateway's own endpoints — /openapi.json and /docs
 * (the API its routes expose, merged from the upstreams' documents: openapi/),
 * and problem+json 404s for unknown paths — while proxied routes and the public /health
 * are dispatched straight from Node's request event to the gateway's pipeline
 * (docs/decisions/0005-gateway-hot-path.md has the measurements behind that split).
 * The detailed /health (upstreams, store, config file), /metrics and /usage are on the
 * operator listener only (@portico/http operator.ts).
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createDpopVerifier,
  createTokenVerifier,
  dpopOrigins,
  listenForRevocations,
  storeReplayGuard,
  type TokenVerifier,
} from '@portico/auth';
import { createServer, type OpenApiDocument, repeatedSingleHeader, trustedProxies } from '@portico/http';
import { createKvStore, type KvStore } from '@portico/store/kv';
import { createPubSub } from '@portico/store/pubsub';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema, type GatewayConfig, type GatewayFile } from './config.ts';
import { createGateway, type Gateway, unsafePath } from './gateway.ts';
import { createMetrics } from './metrics.ts';
import { publishedDocument } from './openapi/published.ts';
import { cachedVerifier } from './policies/auth/verify.ts';

export type { GatewayConfig, GatewayFile };
export { ConfigSchema };

export interface BuildDeps {
  /** Token verifier to use instead of one built from `config.auth` (tests pass the test issuer's). */
  verifier?: TokenVerifier;
  /** A gateway definition given in code instead of `config.file`. */
  definition?: GatewayFile;
  /** Store to use instead of one built from `config.redisUrl`. */
  kv?: KvStore;
  /** Where logs go instead of stdout (tests read them). */
  logStream?: { write(line: string): void };
  /**
   * Reads an upstream instance's OpenAPI document instead of fetching its `/openapi.json`: the
   * console's type generator builds the services in process, listening on nothing.
   */
  readDocument?: (instance: string) => Promise<OpenApiDocument>;
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: Gateway;
  }
}

export async function build(config: GatewayConfig, deps: BuildDeps = {}): Promise<FastifyInstance> {
  const { hotPath } = config;
  let gateway: Gateway | undefined;
  let fastifyHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let openapi: ReturnType<typeof publishedDocument> | undefined;

  const server = await createServer({
    name: 'gateway',
    description: 'Portico API gateway: routing, auth, rate limits, caching, aggregation, health',
    logLevel: config.logLevel,
    // What the routes expose, merged from the upstreams' own documents (openapi/).
    document: () => openapi!.document(),
    fastify: {
      ...(deps.logStream ? { logger: { level: config.logLevel, stream: deps.logStream } } : {}),
      serverFactory: (handler) => {
        fastifyHandler = handler;
        // The node hot path: a gateway route serves it, or the host answers. A repeated Host or
        // Authorization goes to the host, whose onRequest hook (@portico/http) refuses it.
        const served = (req: IncomingMessage, res: ServerResponse) =>
          hotPath === 'node' &&
          repeatedSingleHeader(req.rawHeaders) === undefined &&
          gateway?.dispatch(req, res);
        const http = createHttpServer({ keepAliveTimeout: 65_000 }, (req, res) => {
          if (hotPath === 'node' && (req.url === '/health' || req.url?.startsWith('/health?')))
            return void serveHealth(res);
          if (served(req, res)) return;
          fastifyHandler!(req, res);
        });
        // Expect: 100-continue (expect.ts): gateway routes send 100 when they read the body.
        http.on('checkContinue', (req, res) => {
          if (served(req, res)) return;
          res.writeContinue();
          fastifyHandler!(req, res);
        });
        http.on('upgrade', (req, socket, head) => gateway?.upgrade(req, socket, head));
        return http;
      },
    },
  });

  const trustProxy = trustedProxies(config.trustedProxies, 'gateway');
  // Identity publishes revoked tokens, accounts and grants; cached claims are re-checked against them.
  const revocations = deps.verifier
    ? undefined
    : await listenForRevocations({
        url: config.redisUrl,
        keyPrefix: config.auth.revocationPrefix,
        log: server.log,
      });
  const metrics = createMetrics(server.metrics);
  const log = server.log;
  const kv =
    deps.kv ??
    createKvStore({
      url: config.redisUrl || undefined,
      keyPrefix: config.redisKeyPrefix,
      connectionName: `portico-gateway-${process.pid}-${config.redisKeyPrefix.replace(/[^A-Za-z0-9_-]/g, '')}`,
      onAvailabilityChange(available, err) {
        metrics.storeUp('redis', available);
        if (available) log.info('redis connected: rate limits and cache are shared');
        else log.warn({ err: err?.message }, 'redis unreachable: rate limits fail open, cache bypassed');
      },
    });
  // Start with the store connected when it can be; a store that is down never holds start-up back long.
  const storeReady = await kv.ready(2000);
  metrics.storeUp(kv.kind, storeReady);
  if (!storeReady)
    log.warn('redis unreachable at start: rate limits fail open, cache bypassed, until it answers');
  const verifier =
    deps.verifier ??
    createTokenVerifier({
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      jwksUri: config.auth.jwksUri || undefined,
      hs256Secret: config.auth.hs256Secret || undefined,
      ...(revocations ? { revocations } : {}),
      // The edge is where the URL the client addressed is known: proofs are checked in full here,
      // their jti seen-set shared by every gateway on the store.
      dpop: createDpopVerifier({ origins: dpopOrigins(config.auth), replay: storeReplayGuard(kv) }),
    });

  // Cache purges reach every gateway sharing the Redis store, which drop their copies (policies/cache/copies.ts).
  const bus =
    kv.kind === 'redis' && config.redisUrl
      ? createPubSub({
          url: config.redisUrl,
          keyPrefix: config.redisKeyPrefix,
          onError: (err) => log.warn({ err: err.message }, 'cache purge bus: redis error'),
        })
      : undefined;
  gateway = await createGateway({
    bus,
    source: deps.definition ?? config.file,
    watch: config.watch && !deps.definition,
    trustProxy,
    kv,
    verify: cachedVerifier(verifier),
    metrics,
    log,
    document: () => openapi!.document(),
  });
  server.decorate('gateway', gateway);
  openapi = publishedDocument({
    runtime: () => gateway!.runtime,
    issuer: config.auth.issuer,
    log,
    read: deps.readDocument,
  });

  // Public: one word. 200 while the gateway serves, degraded included: a load balancer must not
  // pull every gateway because one upstream is down (the routes to the others still work).
  async function serveHealth(res: ServerResponse) {
    const { status } = await gateway!.health();
    const body = JSON.stringify({ status: status === 'healthy' ? 'up' : 'degraded' });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  }
  const JSON_TYPE = 'application/json; charset=utf-8';
  server.operator.route('/health', async () => ({
    type: JSON_TYPE,
    body: JSON.stringify(await gateway!.health()),
  }));
  server.operator.route('/usage', async () => ({
    type: JSON_TYPE,
    body: JSON.stringify({ consumers: gateway!.usage() }),
  }));

  // What no route matched is the host's to answer: a path no upstream may see is a 400 there too.
  server.addHook('onRequest', (request, _reply, done) => done(unsafePath(request.url)));

  if (hotPath === 'fastify') {
    server.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: '/api/*',
      handler: (request, reply) => {
        reply.hijack();
        if (!gateway!.dispatch(request.raw, reply.raw)) {
          reply.raw.writeHead(404).end();
        }
      },
    });
  }

  server.addHook('onClose', async () => {
    await gateway!.close();
    await bus?.close();
    await revocations?.close();
    if (!deps.kv) await kv.close();
  });
  return server;
}
