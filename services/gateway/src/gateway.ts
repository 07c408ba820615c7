/**
 * The gateway's request path on Node's own HTTP server objects: match a route, clean the
 * headers, run the route's pipeline, write the answer (or problem+json), record metrics
 * and usage. Also the gateway's /health, reloads of the gateway file, and WebSocket upgrades.
 */
import { watch } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { AuthError } from '@portico/auth';
import { requestIdFrom, type TrustProxy } from '@portico/http';
import { commonErrors, isProblemError, PROBLEM_CONTENT_TYPE, type ProblemError } from '@portico/problem';
import type { KvStore } from '@portico/store/kv';
import { activeTraceId, logTraceId, nameServerSpan } from '@portico/telemetry';
import type { FastifyBaseLogger } from 'fastify';
import { type GatewayFile, loadGatewayFile, ms } from './config.ts';
import { connectionCounter } from './connections.ts';
import { type Context, consumerOf, isRelay } from './context.ts';
import { errors, isGatewayError } from './errors.ts';
import { endWith } from './headers.ts';
import type { GatewayMetrics } from './metrics.ts';
import { failureMeter } from './policies/auth/failures.ts';
import type { Verify } from './policies/auth/index.ts';
import type { DocumentSource, FieldError, ValidationResult } from './policies/validate/index.ts';
import { compile, type Runtime } from './runtime.ts';
import { describe } from './upstream/upstream.ts';
import { proxyUpgrade } from './websocket/proxy.ts';
import { refuse } from './websocket/refuse.ts';

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
}

export type Gateway = ReturnType<typeof createGateway>;

/** `..` or `.` segments, raw or percent-encoded, and NUL never reach an upstream. */
const UNSAFE_PATH = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|%2f|%5c|%00|\\/i;

export function createGateway(options: GatewayOptions) {
  const { kv, metrics, log } = options;
  const started = Date.now();
  const backend = kv.kind;
  let reloads = 0;
  let lastReloadError: string | undefined;
  let lastStoreWarning = 0;

  const hooks = {
    decided: (route: string, decision: 'allowed' | 'rejected' | 'failed_open') =>
      metrics.limiter(route, decision),
    lookup: (route: string, result: 'hit' | 'miss' | 'bypass') => metrics.cache(route, result),
    validated: (route: string, part: 'request' | 'response', result: ValidationResult) =>
      metrics.validation(route, part, result),
    drifted(route: string, detail: { method: string; path: string; status: number; errors: FieldError[] }) {
      log.warn({ route, ...detail }, 'upstream answer does not match its published contract');
    },
    storeFailed(operation: string, err: unknown) {
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
  const upstreamHooks = {
    onBreaker(upstream: string, instance: string, state: string) {
      metrics.breaker(upstream, instance, state);
      log.warn({ upstream, instance, state }, `circuit breaker ${state}`);
    },
    onStall(upstream: string, instance: string, ejected: boolean) {
      log.warn(
        { upstream, instance },
        ejected
          ? 'instance stalled: no answer and no health probe, ejected'
          : 'instance slow to answer but passes its health probe: kept',
      );
    },
    onHealth(upstream: string, instance: string, up: boolean) {
      metrics.instanceUp(upstream, instance, up);
      log.warn({ upstream, instance, up }, up ? 'instance re-admitted' : 'instance ejected by health check');
    },
  };
  // Open WebSocket sessions and event streams outlive a reload: their counts are the gateway's.
  const connections = connectionCounter();
  const build = (file: GatewayFile) =>
    compile(
      file,
      {
        kv,
        verify: options.verify,
        hooks,
        document: options.document,
        connections,
        failures: failureMeter(
          kv,
          { limit: file.authFailures.limit, windowMs: ms(file.authFailures.window, 60_000) },
          hooks,
        ),
      },
      upstreamHooks,
    );

  let runtime: Runtime = build(loadGatewayFile(options.source));

  let closed = false;
  let lastHealth: { at: number; runtime: Runtime; body: ReturnType<typeof checkHealth> } | undefined;
  async function reload(source: string | GatewayFile = options.source): Promise<boolean> {
    if (closed) return false;
    let next: Runtime;
    try {
      next = build(loadGatewayFile(source));
    } catch (err) {
      lastHealth = undefined;
      lastReloadError = (err as Error).message;
      metrics.reload('refused');
      log.error({ err: lastReloadError }, 'gateway file refused; the previous one keeps serving');
      return false;
    }
    const old = runtime;
    runtime = next;
    reloads++;
    lastReloadError = undefined;
    metrics.reload('applied');
    log.info({ routes: next.routes.length }, 'gateway file reloaded');
    old
      .close()
      .catch((err) => log.warn({ err: describe(err) }, 'closing the previous upstream pools failed'));
    return true;
  }

  const onHangup = () => void reload();
  process.on('SIGHUP', onHangup);
  let watcher: ReturnType<typeof watch> | undefined;
  let pending: NodeJS.Timeout | undefined;
  if (options.watch && typeof options.source === 'string') {
    const file = options.source;
    // Editors replace files rather than write them: watch the directory, filter by name.
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== basename(file)) return;
      clearTimeout(pending);
      pending = setTimeout(() => void reload(), 50);
    });
    watcher.unref();
  }

  function writeReply(ctx: Context) {
    const { res, reply } = ctx;
    const headers = reply!.headers;
    const extra = ctx.replyHeaders;
    for (const name in extra) {
      if (name === 'vary' && headers.vary) headers.vary = `${headers.vary}, ${extra.vary}`;
      else headers[name] = extra[name];
    }
    headers['x-request-id'] = ctx.id;
    const status = reply!.status;
    res.writeHead(status, headers);
    const body = reply!.body;
    if (body === undefined || ctx.method === 'HEAD' || status === 204 || status === 304) {
      res.end();
      if (body instanceof Readable) body.resume();
      finish(ctx, status);
    } else if (Buffer.isBuffer(body)) {
      endWith(res, body);
      finish(ctx, status);
    } else if (isRelay(body)) {
      body.attach(res, (err) => {
        if (err) log.debug({ err: describe(err), request_id: ctx.id }, 'response stream ended early');
        finish(ctx, status);
      });
    } else {
      pipeline(body, res, (err) => {
        if (err) log.debug({ err: describe(err), request_id: ctx.id }, 'response stream ended early');
        finish(ctx, status);
      });
    }
  }

  function writeProblem(ctx: Context, problem: ProblemError) {
    const { res } = ctx;
    if (problem.status >= 500)
      log.error({ err: problem.cause ?? problem, code: problem.code, request_id: ctx.id }, problem.message);
    else if (infoEnabled(log))
      log.info({ code: problem.code, status: problem.status, request_id: ctx.id }, problem.message);
    if (res.headersSent) {
      res.destroy();
      finish(ctx, problem.status);
      return;
    }
    const shape = problem.toProblem(ctx.id, ctx.path);
    if (!problem.expose && isGatewayError(problem.code))
      Object.assign(shape, { detail: problem.message }, problem.extensions);
    const body = JSON.stringify(shape);
    res.writeHead(problem.status, {
      ...ctx.replyHeaders,
      ...problem.headers,
      'content-type': PROBLEM_CONTENT_TYPE,
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
      'x-request-id': ctx.id,
    });
    res.end(ctx.method === 'HEAD' ? undefined : body);
    finish(ctx, problem.status);
  }

  function finish(ctx: Context, status: number) {
    const seconds = (performance.now() - ctx.started) / 1000;
    metrics.request(ctx.route.name, ctx.method, status, ctx.upstream, seconds, consumerOf(ctx));
    if (infoEnabled(log)) {
      log.info(
        {
          request_id: ctx.id,
          route: ctx.route.name,
          method: ctx.method,
          path: ctx.path,
          status,
          ms: Math.round(seconds * 1e4) / 10,
          upstream: ctx.upstream,
          consumer: ctx.consumer,
          ...(ctx.auth ? { user: ctx.auth.sub } : {}),
          // Tracing on: the server span's, taken in `run` (a streamed answer ends outside it);
          // off: the traceparent the gateway sent upstream.
          trace_id: ctx.traceId ?? logTraceId(ctx.upstreamHeaders?.traceparent),
        },
        `${ctx.method} ${ctx.path} ${status}`,
      );
    }
  }

  async function run(
    route: Runtime['routes'][number],
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    search: string,
  ) {
    const id = requestIdFrom(req);
    const ctx: Context = {
      req,
      res,
      id,
      method: req.method ?? 'GET',
      path,
      search,
      route,
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
      traceId: activeTraceId(),
    };
    nameServerSpan(ctx.method, route.def.path);
    try {
      const preflight =
        ctx.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (!route.methods.has(ctx.method) && !preflight) {
        throw errors.METHOD_NOT_ALLOWED(`${ctx.method} is not allowed on ${path}`, {
          headers: { allow: runtime.allowFor(path) },
        });
      }
      if (UNSAFE_PATH.test(path)) throw errors.BAD_PATH('The path has dot segments or encoded separators');
      await route.handle(ctx);
      writeReply(ctx);
    } catch (err) {
      writeProblem(ctx, toProblem(err));
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

    upgrade(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) {
      const path = (req.url ?? '/').split('?')[0]!;
      if (UNSAFE_PATH.test(path)) {
        socket.on('error', () => socket.destroy());
        refuse(
          req,
          socket,
          errors.BAD_PATH('The path has dot segments or encoded separators'),
          requestIdFrom(req),
          path,
        );
        return;
      }
      const route = runtime.match(path);
      proxyUpgrade({
        route,
        req,
        socket,
        head,
        trustProxy: options.trustProxy,
        connections,
        metrics,
        log,
        timeoutMs: ms(runtime.file.defaults.timeout, 10_000),
      });
    },

    reload,

    get runtime() {
      return runtime;
    },

    /**
     * `/health`: the gateway's state, its store's, and every upstream's, checked now. Callers
     * arriving within a second share one round of checks, so a flood of /health requests
     * is never a flood on the upstreams.
     */
    health() {
      const now = Date.now();
      if (!lastHealth || now - lastHealth.at > 1000 || lastHealth.runtime !== runtime) {
        lastHealth = { at: now, runtime, body: checkHealth() };
      }
      return lastHealth.body;
    },

    usage: () => metrics.usage(),

    async close() {
      closed = true;
      clearTimeout(pending);
      process.off('SIGHUP', onHangup);
      watcher?.close();
      await runtime.close();
    },
  };

  async function checkHealth() {
    const rt = runtime;
    const t0 = performance.now();
    let store: Record<string, unknown>;
    try {
      await kv.ping();
      store = { backend, status: 'healthy', response_time_ms: round(performance.now() - t0) };
    } catch (err) {
      store = {
        backend,
        status: 'unhealthy',
        response_time_ms: round(performance.now() - t0),
        error: describe(err),
        impact: 'rate limits fail open; responses are not cached',
      };
    }
    const services: Record<string, unknown> = {};
    await Promise.all(
      [...rt.upstreams.values()].map(async (upstream) => {
        const results = await upstream.check();
        const ok = results.filter((r) => r.ok).length;
        services[upstream.name] = {
          status: ok === results.length ? 'healthy' : ok === 0 ? 'unhealthy' : 'degraded',
          response_time_ms: Math.max(...results.map((r) => r.response_time_ms)),
          instances: upstream.instances.map((instance, i) => ({
            url: instance.url,
            status: results[i]!.ok ? 'healthy' : 'unhealthy',
            response_time_ms: results[i]!.response_time_ms,
            breaker: instance.breaker.state,
            ...(results[i]!.error ? { error: results[i]!.error } : {}),
            ...(results[i]!.status && !results[i]!.ok ? { http_status: results[i]!.status } : {}),
          })),
        };
      }),
    );
    const healthy =
      store.status === 'healthy' &&
      Object.values(services).every((s) => (s as { status: string }).status === 'healthy');
    return {
      status: healthy ? 'healthy' : 'degraded',
      service: 'gateway',
      uptime_seconds: Math.round((Date.now() - started) / 1000),
      config: {
        file: typeof options.source === 'string' ? options.source : '(inline)',
        loaded_at: rt.loadedAt.toISOString(),
        routes: rt.routes.length,
        reloads,
        ...(lastReloadError ? { last_reload_error: lastReloadError } : {}),
      },
      store,
      services,
      timestamp: new Date().toISOString(),
    };
  }
}

function toProblem(err: unknown): ProblemError {
  if (isProblemError(err)) return err;
  if (err instanceof AuthError) return err;
  return commonErrors.INTERNAL_ERROR('An unexpected error occurred', { cause: err });
}

function round(value: number) {
  return Math.round(value * 100) / 100;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function infoEnabled(log: FastifyBaseLogger): boolean {
  return (LEVELS[log.level] ?? 100) <= 30;
}
