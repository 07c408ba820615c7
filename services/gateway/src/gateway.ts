/**
 * The gateway's request path on Node's own HTTP server objects: match a route, check the
 * method and path, run the route's pipeline and hand the answer to reply.ts. A WebSocket
 * upgrade runs its route's upgrade pipeline (the policies that take upgrades, then the
 * WebSocket terminal in websocket/). Reloads (reload.ts) and /health (health.ts) are wired here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { repeatedHeaderProblem, repeatedSingleHeader, requestIdFrom, type TrustProxy } from '@portico/http';
import type { ProblemError } from '@portico/problem';
import type { KvStore } from '@portico/store/kv';
import type { PubSub } from '@portico/store/pubsub';
import { activeTraceId, nameServerSpan, sampledTraceId, tracingOn } from '@portico/telemetry';
import type { FastifyBaseLogger } from 'fastify';
import { type GatewayFile, loadGatewayFile, ms } from './config.ts';
import { connectionCounter } from './connections.ts';
import type { Context, Terminal } from './context.ts';
import { errors } from './errors.ts';
import { health } from './health.ts';
import type { GatewayMetrics } from './metrics.ts';
import { pluginsOf } from './plugins.ts';
import { failureMeter } from './policies/auth/failures.ts';
import { busFor, createCopies } from './policies/cache/copies.ts';
import type { DocumentSource } from './policies/validate/index.ts';
import type { PolicyHooks, Verify } from './policy.ts';
import { reloader } from './reload.ts';
import { replies } from './reply.ts';
import { type CompiledRoute, compile, type Runtime } from './runtime.ts';
import { describe, type StallVerdict, type UpstreamHooks } from './upstream/upstream.ts';
import { refuse, upgradeResponse } from './websocket/refuse.ts';

export interface GatewayOptions {
  source: string | GatewayFile;
  watch: boolean;
  /** Which hops' X-Forwarded-For to believe (headers.ts). */
  trustProxy: TrustProxy;
  kv: KvStore;
  verify: Verify;
  metrics: GatewayMetrics;
  log: FastifyBaseLogger;
  /** The merged OpenAPI document, which routes with `validate` check against. */
  document?: DocumentSource;
  /** Where cache purges reach the other gateways sharing `kv` (Redis); in process when absent. */
  bus?: PubSub;
}

/** Cached answers this gateway keeps copies of, at most (least recently used go first). */
const COPIES_MAX_BYTES = 64 * 1024 * 1024;
/** How long a copy of a Redis entry is kept at most: a purge whose message was lost is seen this late. */
const REDIS_COPY_MS = 1000;

export type Gateway = Awaited<ReturnType<typeof createGateway>>;

/** `..` or `.` segments, raw or percent-encoded, and NUL never reach an upstream. */
const UNSAFE_PATH = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|%2f|%5c|%00|\\/i;

/** The refusal of a path with dot segments or encoded separators, routed or not; undefined for a safe one. */
export function unsafePath(url: string): ProblemError | undefined {
  const q = url.indexOf('?');
  return UNSAFE_PATH.test(q === -1 ? url : url.slice(0, q))
    ? errors.BAD_PATH('The path has dot segments or encoded separators')
    : undefined;
}

export async function createGateway(options: GatewayOptions) {
  const { kv, metrics, log } = options;
  const started = Date.now();
  const hooks = policyHooks(options);
  const upstreamHooks = upstreamEvents(metrics, log);
  // Open WebSocket sessions and event streams outlive a reload: their counts are the gateway's.
  const connections = connectionCounter();
  const copies = await createCopies({
    bus: options.bus ?? busFor(kv),
    maxBytes: COPIES_MAX_BYTES,
    maxAgeMs: kv.kind === 'redis' ? REDIS_COPY_MS : Number.POSITIVE_INFINITY,
    onError: (err) => hooks.storeFailed('cache-purge-bus', err),
  });
  const load = async (source: string | GatewayFile): Promise<Runtime> => {
    const plugins = await pluginsOf(source);
    const file = loadGatewayFile(source, plugins);
    const failures = failureMeter(
      kv,
      { limit: file.authFailures.limit, windowMs: ms(file.authFailures.window, 60_000) },
      hooks,
    );
    const services = {
      kv,
      log,
      hooks,
      connections,
      copies,
      verify: options.verify,
      failures,
      document: options.document,
    };
    return compile(file, plugins, services, upstreamHooks);
  };

  let runtime: Runtime = await load(options.source);
  const reloads = reloader({
    source: options.source,
    watch: options.watch,
    load,
    swap(next) {
      const old = runtime;
      runtime = next;
      return old;
    },
    metrics,
    log,
  });
  const reply = replies({ metrics, log });
  const tracing = tracingOn();

  const context = (
    route: CompiledRoute,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    search: string,
  ): Context => ({
    req,
    res,
    upgrade: undefined,
    id: requestIdFrom(req),
    method: req.method ?? 'GET',
    path,
    search,
    route: route.view,
    upstreamHeaders: undefined,
    trustProxy: options.trustProxy,
    bufferBody: false,
    upstreamPath: req.url!,
    body: undefined,
    auth: undefined,
    consumer: '',
    replyHeaders: {},
    reply: undefined,
    upstream: route.def.upstream ?? '-',
    started: performance.now(),
    // Tracing off (decided at start): no span to ask about on the hot path.
    traceId: tracing ? activeTraceId() : undefined,
    exemplar: tracing ? sampledTraceId() : undefined,
  });

  async function run(
    route: CompiledRoute,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    search: string,
  ) {
    const ctx = context(route, req, res, path, search);
    if (tracing) nameServerSpan(ctx.method, route.def.path, 'gateway');
    try {
      const preflight =
        ctx.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (!route.methods.has(ctx.method) && !preflight) {
        throw errors.METHOD_NOT_ALLOWED(`${ctx.method} is not allowed on ${path}`, {
          headers: { allow: runtime.allowFor(path) },
        });
      }
      const unsafe = unsafePath(path);
      if (unsafe) throw unsafe;
      await route.handle(ctx);
      reply.write(ctx);
    } catch (err) {
      reply.problem(ctx, err);
    }
  }

  async function upgrade(handle: Terminal, ctx: Context) {
    try {
      await handle(ctx);
      reply.record(ctx, 101);
    } catch (err) {
      const { socket } = ctx.upgrade!;
      if (socket.destroyed || !socket.writable) {
        socket.destroy();
        reply.record(ctx, 499);
      } else reply.problem(ctx, err);
    }
  }

  return {
    /** Serves a gateway route and returns true, or returns false for the host to answer. */
    dispatch(req: IncomingMessage, res: ServerResponse): boolean {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const method = req.method ?? 'GET';
      // A CORS preflight asks about the method it names, not OPTIONS.
      const asked = method === 'OPTIONS' ? (req.headers['access-control-request-method'] ?? method) : method;
      const route = runtime.match(path, String(asked));
      if (!route) return false;
      void run(route, req, res, path, q === -1 ? '' : url.slice(q));
      return true;
    },

    /** A WebSocket upgrade: through its route's upgrade pipeline, refused on the same problem+json path. */
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      socket.on('error', () => socket.destroy());
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const unsafe = unsafePath(path);
      if (unsafe) {
        refuse(req, socket, unsafe, requestIdFrom(req), path);
        return;
      }
      const repeated = repeatedSingleHeader(req.rawHeaders);
      if (repeated !== undefined) {
        refuse(req, socket, repeatedHeaderProblem(repeated), requestIdFrom(req), path);
        return;
      }
      const route = runtime.match(path);
      if (!route?.upgrade) {
        refuse(
          req,
          socket,
          errors.ROUTE_NOT_FOUND(`No WebSocket route at ${path}`),
          requestIdFrom(req),
          path,
        );
        return;
      }
      const ctx = context(route, req, upgradeResponse(req, socket), path, q === -1 ? '' : url.slice(q));
      ctx.upgrade = { socket, head, messages: [] };
      void upgrade(route.upgrade, ctx);
    },

    reload: reloads.reload,

    get runtime() {
      return runtime;
    },

    /** `/health`: the gateway's state, its store's, and every upstream's (health.ts). */
    health: health({
      kv,
      file: typeof options.source === 'string' ? options.source : '(inline)',
      started,
      runtime: () => runtime,
      reloads: () => {
        const { count, lastError } = reloads.state();
        return { count, lastError };
      },
    }),

    usage: () => metrics.usage(),

    async close() {
      reloads.close();
      await runtime.close();
      await copies.close();
    },
  };
}

/** Policies' reports, as metrics and (rate-limited) logs. */
function policyHooks({ kv, metrics, log }: GatewayOptions): PolicyHooks {
  const backend = kv.kind;
  let lastStoreWarning = 0;
  return {
    decided: (route, decision) => metrics.limiter(route, decision),
    lookup: (route, result) => metrics.cache(route, result),
    validated: (route, part, result) => metrics.validation(route, part, result),
    drifted(route, detail) {
      log.warn({ route, ...detail }, 'upstream answer does not match its published contract');
    },
    storeFailed(operation, err) {
      metrics.storeError(backend, operation);
      const now = Date.now();
      if (now - lastStoreWarning > 5000) {
        lastStoreWarning = now;
        log.warn(
          { operation, err: describe(err), backend },
          'store unreachable: rate limits fail open and the cache is bypassed until it is back',
        );
      }
    },
  };
}

const STALL_VERDICTS: Record<StallVerdict, string> = {
  ejected: 'instance stalled: no answer and no health probe, ejected',
  spared:
    'instance stalled: no answer and no health probe, kept since stall detection ejects at most half of the instances and never the last',
  alive: 'instance slow to answer but passes its health probe: kept',
};

function upstreamEvents(metrics: GatewayMetrics, log: FastifyBaseLogger): UpstreamHooks {
  return {
    onBreaker(upstream, instance, state) {
      metrics.breaker(upstream, instance, state);
      log.warn({ upstream, instance, state }, `circuit breaker ${state}`);
    },
    onStall(upstream, instance, verdict) {
      log.warn({ upstream, instance }, STALL_VERDICTS[verdict]);
    },
    onHealth(upstream, instance, up) {
      metrics.instanceUp(upstream, instance, up);
      log.warn({ upstream, instance, up }, up ? 'instance re-admitted' : 'instance ejected by health check');
    },
  };
}
