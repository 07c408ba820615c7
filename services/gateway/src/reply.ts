/**
 * Writing what a route answers: its reply with the headers policies added, or a problem as
 * problem+json (RFC 9457), the one path every refusal and failure takes; then the request's
 * metrics, usage and log line. 4xx are logged at info, 5xx at error with their cause.
 */
import { commonErrors, isProblemError, PROBLEM_CONTENT_TYPE, type ProblemError } from '@portico/problem';
import { logTraceId } from '@portico/telemetry';
import type { FastifyBaseLogger } from 'fastify';
import { type Context, consumerOf } from './context.ts';
import { isGatewayError } from './errors.ts';
import { endWith } from './headers.ts';
import type { GatewayMetrics } from './metrics.ts';
import { describe } from './upstream/upstream.ts';

export type Replies = ReturnType<typeof replies>;

export function replies({ metrics, log }: { metrics: GatewayMetrics; log: FastifyBaseLogger }) {
  function finish(ctx: Context, status: number) {
    const seconds = (performance.now() - ctx.started) / 1000;
    metrics.request(ctx.route.name, ctx.method, status, ctx.upstream, seconds, consumerOf(ctx), ctx.exemplar);
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

  return {
    /** Counts and logs an answer written elsewhere (a WebSocket's 101, a client gone mid-upgrade). */
    record: finish,

    write(ctx: Context) {
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
        finish(ctx, status);
      } else if (Buffer.isBuffer(body)) {
        endWith(res, body);
        finish(ctx, status);
      } else {
        body.attach(res, (err) => {
          if (err) log.debug({ err: describe(err), request_id: ctx.id }, 'response stream ended early');
          finish(ctx, status);
        });
      }
    },

    problem(ctx: Context, err: unknown) {
      const problem = toProblem(err);
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
      const body = JSON.stringify(problemBody(problem, ctx.id, ctx.path));
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
    },
  };
}

/** A thrown problem as it is; anything else is an unexpected 500 whose details stay in the log. */
export function toProblem(err: unknown): ProblemError {
  if (isProblemError(err)) return err;
  return commonErrors.INTERNAL_ERROR('An unexpected error occurred', { cause: err });
}

/** The problem+json body; the gateway's own 5xx keep their detail (which upstream, how long). */
export function problemBody(problem: ProblemError, id: string, path: string) {
  const shape = problem.toProblem(id, path);
  if (!problem.expose && isGatewayError(problem.code))
    Object.assign(shape, { detail: problem.message }, problem.extensions);
  return shape;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function infoEnabled(log: FastifyBaseLogger): boolean {
  return (LEVELS[log.level] ?? 100) <= 30;
}
