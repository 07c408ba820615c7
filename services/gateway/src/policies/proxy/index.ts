/**
 * The proxy: sends the request to one instance of the route's upstream.
 * - instances round robin, skipping those ejected by health checks, stall detection or an open
 *   breaker; none left: 503 at once, no connection attempted;
 * - the route's timeout is a deadline from the request's arrival: time waiting for a free
 *   connection (the upstream's bulkhead queue), connecting and waiting for the response head
 *   all count, and at the deadline the answer is 504 whatever it was waiting for. Unless
 *   `bodyTimeout` says otherwise (0 for event streams), it also bounds each gap in the body;
 * - a full queue is a fast 503 (UPSTREAM_BUSY): one upstream's trouble holds its own slots only;
 * - a connection that fails is retried on the next instance for idempotent methods (RFC 9110
 *   §9.2.2), and for any method when the connection was refused (nothing was sent); a request
 *   stuck on an instance that stall detection ejects is retried on a peer when idempotent,
 *   within what is left of the deadline; a timeout at the deadline is not retried;
 * - connection failures, timeouts and 502/503/504 the instance produced itself count against
 *   its breaker; an answer marked `Portico-Dependency-Failure` (its dependency is down) does not;
 * - the body is relayed chunk by chunk from undici's dispatcher to the client socket, with
 *   backpressure both ways, unless a policy asked for it whole (cache, field filters).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Type } from '@portico/config';
import type { Dispatcher } from 'undici';
import { type Context, type Relay, type Reply, type Terminal, upstreamHeaders } from '../../context.ts';
import { errors } from '../../errors.ts';
import { downstreamHeaders, endWith } from '../../headers.ts';
import { defineTerminal } from '../../policy.ts';
import { Duration, ms } from '../../schema.ts';
import {
  type Attempt,
  describe,
  type Instance,
  instanceFault,
  SaturatedError,
  StalledError,
  type Upstream,
} from '../../upstream/upstream.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The request's deadline passed before the response head came. */
class DeadlineError extends Error {
  code = 'PORTICO_DEADLINE';
}

const Retries = Type.Integer({ minimum: 0, maximum: 5 });

export const proxy = defineTerminal({
  name: 'proxy',
  route: {
    timeout: Type.Optional(Duration()),
    bodyTimeout: Type.Optional(
      Duration({
        description:
          'Longest gap between two chunks of the response body (default: timeout; 0: none, for SSE)',
      }),
    ),
    retries: Type.Optional(Retries),
  },
  defaults: {
    timeout: Type.Optional(Duration()),
    retries: Type.Integer({ minimum: 0, maximum: 5, default: 1 }),
  },
  create(options, route, gateway) {
    const upstream = route.upstream === undefined ? undefined : gateway.upstreams.get(route.upstream);
    return upstream && forwarder(upstream, options);
  },
});

function forwarder(
  upstream: Upstream,
  settings: { timeout?: string | number; bodyTimeout?: string | number; retries?: number },
): Terminal {
  const timeout = ms(settings.timeout, 10_000);
  const bodyTimeout = ms(settings.bodyTimeout, timeout);
  const retries = settings.retries ?? 1;

  return async (ctx) => {
    ctx.upstream = upstream.name;
    const idempotent = IDEMPOTENT.has(ctx.method);
    const deadline = ctx.started + timeout;
    const options: Dispatcher.DispatchOptions = {
      method: ctx.method as Dispatcher.HttpMethod,
      path: ctx.upstreamPath,
      headers: upstreamHeaders(ctx) as Record<string, string>,
      body: ctx.body,
      // The deadline below ends the wait; this is only a backstop.
      headersTimeout: timeout + 1000,
      bodyTimeout,
    };
    const timedOut = (cause?: unknown) =>
      errors.UPSTREAM_TIMEOUT(`${upstream.name} did not answer within ${timeout} ms`, { cause });
    let lastError: unknown;
    let failed: Instance | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      let instance: Instance | undefined;
      try {
        instance = await upstream.acquire(deadline, failed);
      } catch (err) {
        if (err instanceof SaturatedError)
          throw errors.UPSTREAM_BUSY(err.message, { headers: { 'retry-after': '1' } });
        throw timedOut(err);
      }
      if (!instance) {
        if (lastError) break;
        throw errors.CIRCUIT_OPEN(
          `${upstream.name} is unavailable: no healthy instance will take requests now`,
          {
            headers: { 'retry-after': '1' },
          },
        );
      }
      try {
        ctx.reply = await forward(instance, upstream, options, ctx, deadline, idempotent);
        return;
      } catch (err) {
        lastError = err;
        failed = instance;
        if (err instanceof StalledError) {
          // Already ejected; its idempotent requests move on while there is time left.
          if (performance.now() >= deadline) throw timedOut(err);
          continue;
        }
        instance.breaker.failure();
        if (err instanceof DeadlineError || TIMEOUTS.has(describe(err))) throw timedOut(err);
        if (!idempotent && describe(err) !== 'ECONNREFUSED') break;
      }
    }
    throw errors.UPSTREAM_ERROR(`${upstream.name} could not be reached (${describe(lastError)})`, {
      cause: lastError,
    });
  };
}

/** Resolves with the response head (and a relay for its body), or with the whole body when asked. */
function forward(
  instance: Instance,
  upstream: Upstream,
  options: Dispatcher.DispatchOptions,
  ctx: Context,
  deadline: number,
  retryable: boolean,
): Promise<Reply> {
  const whole = ctx.bufferBody;
  return new Promise<Reply>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    // Set when the deadline passed or stall detection gave up before undici handed a controller.
    let abortWith: Error | undefined;
    const attempt: Attempt = {
      started: performance.now(),
      retryable,
      abort(err) {
        if (started) return;
        abortWith = err;
        clearTimeout(timer);
        reject(err);
        controller?.abort(err);
      },
    };
    instance.inflight.add(attempt);
    let released = false;
    const release = () => {
      clearTimeout(timer);
      if (released) return;
      released = true;
      upstream.release(instance, attempt);
    };
    const timer = setTimeout(
      () => attempt.abort(new DeadlineError(`no response head before the deadline`)),
      Math.max(0, deadline - performance.now()),
    );
    let started = false;
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    let chunks: Buffer[] = [];
    let sink: ServerResponse | undefined;
    let done: ((err?: Error) => void) | undefined;
    let ended = false;
    let failed: Error | undefined;
    let collector: { resolve(b: Buffer): void; reject(e: Error): void } | undefined;

    const finish = (err?: Error) => {
      const callback = done;
      done = undefined;
      callback?.(err);
    };
    // Chunks that reach an attached client wait for the end of the current event-loop turn:
    // a body that ends meanwhile leaves with its head in one write; a stream still flows
    // (and an event stream's head goes out) one turn later.
    let scheduled = false;
    // `headersSent` turns true at writeHead, before anything reaches the socket: keep our own flag.
    let wrote = false;
    const flush = () => {
      scheduled = false;
      if (!sink || ended || failed) return;
      wrote = true;
      if (chunks.length === 0) {
        sink.flushHeaders();
        return;
      }
      let ok = true;
      for (const chunk of chunks) ok = sink.write(chunk) && ok;
      chunks = [];
      if (!ok) {
        controller?.pause();
        sink.once('drain', () => controller?.resume());
      }
    };
    const schedule = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(flush);
    };
    const relay: Relay = {
      relay: true,
      attach(res, callback) {
        sink = res;
        done = callback;
        if (failed) {
          res.destroy(failed);
          finish(failed);
          return;
        }
        if (ended) {
          // The whole (small) body is here: headers and body leave in one write.
          endWith(res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
          chunks = [];
          finish();
          return;
        }
        // Still arriving (a large body or an event stream).
        schedule();
        // The client went away: stop reading the upstream's answer.
        res.once('close', () => {
          if (!ended) controller?.abort(new Error('client closed the connection'));
        });
      },
      collect() {
        if (ended) return Promise.resolve(Buffer.concat(chunks));
        if (failed) return Promise.reject(failed);
        return new Promise((res, rej) => {
          collector = { resolve: res, reject: rej };
        });
      },
    };

    instance.pool.dispatch(options, {
      onRequestStart(c) {
        controller = c;
        if (abortWith) c.abort(abortWith);
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        if (abortWith) return;
        started = true;
        clearTimeout(timer);
        instance.lastAnswer = performance.now();
        status = statusCode;
        headers = responseHeaders;
        if (instanceFault(statusCode, responseHeaders)) instance.breaker.failure();
        else instance.breaker.success();
        if (!whole) resolve({ status, headers: downstreamHeaders(headers), body: relay });
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
        if (sink) schedule();
      },
      onResponseEnd() {
        release();
        ended = true;
        if (whole) {
          resolve({ status, headers: downstreamHeaders(headers), body: Buffer.concat(chunks) });
        } else if (sink) {
          if (!wrote) endWith(sink, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
          else {
            for (const chunk of chunks) sink.write(chunk);
            sink.end();
          }
          chunks = [];
          finish();
        } else collector?.resolve(Buffer.concat(chunks));
      },
      onResponseError(_c, err) {
        release();
        if (abortWith) return;
        if (!started || whole) {
          reject(err);
          return;
        }
        failed = err;
        if (sink) {
          sink.destroy(err);
          finish(err);
        } else collector?.reject(err);
      },
    });
  });
}
