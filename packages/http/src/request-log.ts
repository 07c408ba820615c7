/**
 * One log line per request, written when the answer is sent: method, path, status, duration,
 * the user (the token's subject) and the trace id, plus the problem's code for a 4xx. A 4xx
 * writes nothing else (it is the client's mistake, and no stack helps); a 5xx also has its own
 * error line with the stack, written where it is answered (errors.ts). Successful `/health`
 * probes are not logged: a load balancer asks every few seconds.
 */
import { logTraceId } from '@portico/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';

const problems = new WeakMap<FastifyRequest, { code: string; detail: string }>();

/** Puts a 4xx problem's code and detail on the request's line (errors.ts). */
export function noteProblem(request: FastifyRequest, code: string, detail: string): void {
  problems.set(request, { code, detail });
}

export function logRequest(request: FastifyRequest, reply: FastifyReply): void {
  const log = request.log;
  if (!(log as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.('info')) return;
  const status = reply.statusCode;
  const path = request.url.split('?')[0]!;
  if (status < 300 && path === '/health') return;
  const user = (request as { auth?: { sub?: string } }).auth?.sub;
  const traceId = logTraceId(request.headers.traceparent);
  const problem = problems.get(request);
  log.info(
    {
      method: request.method,
      path,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(user ? { user } : {}),
      ...(traceId ? { trace_id: traceId } : {}),
      ...(problem ? { code: problem.code, detail: problem.detail } : {}),
    },
    `${request.method} ${path} ${status}`,
  );
}
