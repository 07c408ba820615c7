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
    let lastError: unknown;
    let failed: Instance | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      let instance: Instance | undefined;
      try {
        const taken = upstream.acquire(deadline, failed);
        instance = taken instanceof Promise ? await taken : taken;
      } catch (err) {
        if (err instanceof SaturatedError)
          throw errors.UPSTREAM_BUSY(err.message, { headers: { 'retry-after': '1' } });
        throw timedOut(upstream, timeout, err);
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
          if (performance.now() >= deadline) throw timedOut(upstream, timeout, err);
          continue;
        }
        instance.breaker.failure();
        if (err instanceof DeadlineError || TIMEOUTS.has(describe(err)))
          throw timedOut(upstream, timeout, err);
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
  return new Promise<Reply>((resolve, reject) => {
    const exchange = new Exchange(instance, upstream, ctx.bufferBody, retryable, resolve, reject);
    instance.inflight.add(exchange);
    // Whole milliseconds: requests with the same route timeout then share one Node timer list.
    exchange.timer = setTimeout(atDeadline, Math.max(0, Math.ceil(deadline - performance.now())), exchange);
    instance.pool.dispatch(options, exchange);
  });
}

function flush(exchange: Exchange) {
  exchange.flush();
}

function timedOut(upstream: Upstream, timeout: number, cause: unknown) {
  return errors.UPSTREAM_TIMEOUT(`${upstream.name} did not answer within ${timeout} ms`, { cause });
}

function atDeadline(exchange: Exchange) {
  exchange.abort(new DeadlineError(`no response head before the deadline`));
}

/**
 * One request on one instance: the stall detector's attempt, undici's dispatch handler and the
 * relay of its body, in one object (a request through the gateway allocates it once, rather
 * than a closure per callback).
 */
class Exchange implements Attempt, Dispatcher.DispatchHandler, Relay {
  readonly relay = true;
  readonly started = performance.now();
  timer: NodeJS.Timeout | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  /** Set when the deadline passed or stall detection gave up before undici handed a controller. */
  private abortWith: Error | undefined;
  private released = false;
  private headStarted = false;
  private status = 0;
  // Set with the response head; an empty object per exchange made before it was never read.
  private headers: IncomingHttpHeaders | undefined;
  private chunks: Buffer[] = [];
  private sink: ServerResponse | undefined;
  private done: ((err?: Error) => void) | undefined;
  private ended = false;
  private failed: Error | undefined;
  private collector: { resolve(b: Buffer): void; reject(e: Error): void } | undefined;
  // Chunks that reach an attached client wait for the end of the current event-loop turn:
  // a body that ends meanwhile leaves with its head in one write; a stream still flows
  // (and an event stream's head goes out) one turn later.
  private scheduled = false;
  // `headersSent` turns true at writeHead, before anything reaches the socket: keep our own flag.
  private wrote = false;

  private readonly instance: Instance;
  private readonly upstream: Upstream;
  private readonly whole: boolean;
  readonly retryable: boolean;
  private readonly resolve: (reply: Reply) => void;
  private readonly reject: (err: Error) => void;

  constructor(
    instance: Instance,
    upstream: Upstream,
    whole: boolean,
    retryable: boolean,
    resolve: (reply: Reply) => void,
    reject: (err: Error) => void,
  ) {
    this.instance = instance;
    this.upstream = upstream;
    this.whole = whole;
    this.retryable = retryable;
    this.resolve = resolve;
    this.reject = reject;
  }

  abort(err: Error) {
    if (this.headStarted) return;
    this.abortWith = err;
    clearTimeout(this.timer);
    this.reject(err);
    this.controller?.abort(err);
  }

  private release() {
    clearTimeout(this.timer);
    if (this.released) return;
    this.released = true;
    this.upstream.release(this.instance, this);
  }

  private finish(err?: Error) {
    const callback = this.done;
    this.done = undefined;
    callback?.(err);
  }

  flush() {
    this.scheduled = false;
    const sink = this.sink;
    if (!sink || this.ended || this.failed) return;
    this.wrote = true;
    if (this.chunks.length === 0) {
      sink.flushHeaders();
      return;
    }
    let ok = true;
    for (const chunk of this.chunks) ok = sink.write(chunk) && ok;
    this.chunks = [];
    if (!ok) {
      this.controller?.pause();
      sink.once('drain', () => this.controller?.resume());
    }
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(flush, this);
  }

  private body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  // Relay
  attach(res: ServerResponse, callback: (err?: Error) => void) {
    this.sink = res;
    this.done = callback;
    if (this.failed) {
      res.destroy(this.failed);
      this.finish(this.failed);
      return;
    }
    if (this.ended) {
      // The whole (small) body is here: headers and body leave in one write.
      endWith(res, this.body());
      this.chunks = [];
      this.finish();
      return;
    }
    // Still arriving (a large body or an event stream).
    this.schedule();
    // The client went away: stop reading the upstream's answer.
    res.once('close', () => {
      if (!this.ended) this.controller?.abort(new Error('client closed the connection'));
    });
  }

  collect(): Promise<Buffer> {
    if (this.ended) return Promise.resolve(Buffer.concat(this.chunks));
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.collector = { resolve, reject };
    });
  }

  // Dispatcher.DispatchHandler
  onRequestStart(controller: Dispatcher.DispatchController) {
    this.controller = controller;
    if (this.abortWith) controller.abort(this.abortWith);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ) {
    if (this.abortWith) return;
    this.headStarted = true;
    clearTimeout(this.timer);
    const instance = this.instance;
    instance.lastAnswer = performance.now();
    this.status = statusCode;
    this.headers = headers;
    if (instanceFault(statusCode, headers)) instance.breaker.failure();
    else instance.breaker.success();
    if (!this.whole) this.resolve({ status: statusCode, headers: downstreamHeaders(headers), body: this });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer) {
    this.chunks.push(chunk);
    if (this.sink) this.schedule();
  }

  onResponseEnd() {
    this.release();
    this.ended = true;
    const sink = this.sink;
    if (this.whole) {
      this.resolve({
        status: this.status,
        headers: downstreamHeaders(this.headers ?? {}),
        body: Buffer.concat(this.chunks),
      });
    } else if (sink) {
      if (!this.wrote) endWith(sink, this.body());
      else {
        for (const chunk of this.chunks) sink.write(chunk);
        sink.end();
      }
      this.chunks = [];
      this.finish();
    } else this.collector?.resolve(Buffer.concat(this.chunks));
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error) {
    this.release();
    if (this.abortWith) return;
    if (!this.headStarted || this.whole) {
      this.reject(err);
      return;
    }
    this.failed = err;
    if (this.sink) {
      this.sink.destroy(err);
      this.finish(err);
    } else this.collector?.reject(err);
  }
}
