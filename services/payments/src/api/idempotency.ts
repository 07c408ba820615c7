/**
 * Idempotency-Key on every POST, over the domain's idempotency keys (domain/idempotency-keys.ts):
 * - no key: 400;
 * - the request is its method, path and body with sorted keys, so a replay need not repeat the field order;
 * - a final answer (2xx or 4xx) is stored: the same key and body replay it (Idempotent-Replayed: true);
 * - a 5xx (timeout, upstream down) stores nothing: the key is released so a retry runs again.
 */
import { isProblemError, PROBLEM_CONTENT_TYPE } from '@portico/problem';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotencyKeyService, Outcome } from '../domain/idempotency-keys.ts';
import { errors } from '../errors.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;
export const REPLAY_HEADER = 'idempotent-replayed';

/** JSON with sorted keys: the same body however its fields were ordered. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function idempotencyKeyOf(request: FastifyRequest): string {
  const key = request.headers['idempotency-key'];
  if (key === undefined || key === '') {
    throw errors.IDEMPOTENCY_KEY_REQUIRED('Every POST needs an Idempotency-Key header (e.g. a UUID)');
  }
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw errors.IDEMPOTENCY_KEY_INVALID('The Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return key;
}

export interface Idempotency {
  /** Runs `run` once per key and body; replays its answer for the same key and body. */
  run(request: FastifyRequest, reply: FastifyReply, run: () => Promise<Outcome>): Promise<FastifyReply>;
}

export function idempotentRequests(keys: IdempotencyKeyService): Idempotency {
  return {
    async run(request, reply, run) {
      const key = idempotencyKeyOf(request);
      const principal = request.auth?.sub ?? '';
      const path = request.url.split('?')[0]!;
      const text = `${request.method} ${path}\n${canonical(request.body)}`;

      const { outcome, replayed } = await keys.run({ principal, key, text }, async () => {
        try {
          return await run();
        } catch (err) {
          if (!isProblemError(err) || err.status >= 500) throw err;
          return {
            status: err.status,
            headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...err.headers },
            body: err.toProblem(request.id, path),
          };
        }
      });
      if (replayed)
        return send(reply, { ...outcome, headers: { ...outcome.headers, [REPLAY_HEADER]: 'true' } });
      return send(reply, outcome);
    },
  };
}

function send(reply: FastifyReply, outcome: Outcome): FastifyReply {
  reply.code(outcome.status);
  for (const [name, value] of Object.entries(outcome.headers ?? {})) reply.header(name, value);
  const problem = String(outcome.headers?.['content-type'] ?? '').startsWith(PROBLEM_CONTENT_TYPE);
  return reply.send(problem ? JSON.stringify(outcome.body) : outcome.body);
}
