/**
 * Idempotency-Key on every POST (draft-ietf-httpapi-idempotency-key-header):
 * - no key: 400; the key is scoped to the caller (`sub`), so keys never collide across users;
 * - the key row is written as `processing` BEFORE the handler runs (anything is charged), so a
 *   concurrent duplicate finds it and gets 409 instead of a second effect;
 * - a final answer (2xx or 4xx) is stored: the same key and body replay it (Idempotent-Replayed: true),
 *   the same key with a different body is a 422;
 * - a 5xx (timeout, upstream down) stores nothing: the key is released so a retry runs again,
 *   which the domain makes safe (intent state + the processor's own idempotency key);
 * - a request that crashed leaves its row `processing`: once its lease has passed, a retry takes over.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { isProblemError, PROBLEM_CONTENT_TYPE } from '@portico/problem';
import type { Database } from '@portico/store/sql';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { idempotencyKeysTable } from '../data/idempotency-keys.ts';
import type { IdempotencyKeysTable, PaymentsDatabase } from '../data/schema.ts';
import { errors } from '../errors.ts';

export interface Outcome {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

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
  /** Forgets completed keys older than `retentionHours`. */
  purge(retentionHours: number): Promise<void>;
}

export function createIdempotency(database: Database<PaymentsDatabase>, leaseMs: number): Idempotency {
  const keys = idempotencyKeysTable(database.db);

  /** true when this request now holds the key; otherwise the row that someone else holds or completed. */
  async function claim(principal: string, key: string, text: string): Promise<true | IdempotencyKeysTable> {
    const hash = await fingerprint(text);
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = new Date();
      const lockedUntil = new Date(now.getTime() + leaseMs).toISOString();
      if (await keys.take(principal, key, hash, lockedUntil, now.toISOString())) return true;
      const row = await keys.find(principal, key);
      if (!row) continue; // released by a failed attempt in between: try to take it again
      const expired = row.state === 'processing' && new Date(row.locked_until).getTime() < now.getTime();
      if (!expired || !(await sameRequest(row.request_hash, text))) return row;
      // The holder crashed (its lease ran out): take over, unless another retry just did.
      if (await keys.takeOver(principal, key, row.locked_until, lockedUntil)) return true;
    }
    throw errors.IDEMPOTENCY_KEY_IN_USE('A request with this Idempotency-Key is still being processed', {
      headers: { 'retry-after': '1' },
    });
  }

  return {
    async run(request, reply, run) {
      const key = idempotencyKeyOf(request);
      const principal = request.auth?.sub ?? '';
      const path = request.url.split('?')[0]!;
      const text = `${request.method} ${path}\n${canonical(request.body)}`;

      const claimed = await claim(principal, key, text);
      if (claimed !== true) {
        if (!(await sameRequest(claimed.request_hash, text))) {
          throw errors.IDEMPOTENCY_KEY_REUSED(
            'This Idempotency-Key was already used with a different request; use a new key for a new request',
          );
        }
        if (claimed.state === 'completed') {
          return send(reply, {
            status: claimed.response_status!,
            headers: { ...JSON.parse(claimed.response_headers ?? '{}'), [REPLAY_HEADER]: 'true' },
            body: JSON.parse(claimed.response_body ?? 'null'),
          });
        }
        throw errors.IDEMPOTENCY_KEY_IN_USE('A request with this Idempotency-Key is still being processed', {
          headers: { 'retry-after': '1' },
        });
      }

      let outcome: Outcome;
      try {
        outcome = await run();
      } catch (err) {
        if (!isProblemError(err) || err.status >= 500) {
          await keys.release(principal, key);
          throw err;
        }
        outcome = {
          status: err.status,
          headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...err.headers },
          body: err.toProblem(request.id, path),
        };
      }
      await keys.complete(principal, key, {
        status: outcome.status,
        headers: JSON.stringify(outcome.headers ?? {}),
        body: JSON.stringify(outcome.body),
      });
      return send(reply, outcome);
    },
    purge: (retentionHours) => keys.purge(new Date(Date.now() - retentionHours * 3_600_000).toISOString()),
  };
}

/**
 * What is kept of a request to recognise it again: a salted scrypt digest, because the
 * body of a confirm holds a card number and CVC, which a plain hash would leave open to
 * brute force. Stored as `<salt>.<digest>`.
 */
async function fingerprint(text: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const digest = await new Promise<Buffer>((resolve, reject) =>
    scrypt(text, salt, 32, { N: 4096, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
  return `${salt.toString('base64url')}.${digest.toString('base64url')}`;
}

async function sameRequest(stored: string, text: string): Promise<boolean> {
  const [salt = ''] = stored.split('.');
  const again = Buffer.from(await fingerprint(text, Buffer.from(salt, 'base64url')));
  const before = Buffer.from(stored);
  return again.length === before.length && timingSafeEqual(again, before);
}

function send(reply: FastifyReply, outcome: Outcome): FastifyReply {
  reply.code(outcome.status);
  for (const [name, value] of Object.entries(outcome.headers ?? {})) reply.header(name, value);
  const problem = String(outcome.headers?.['content-type'] ?? '').startsWith(PROBLEM_CONTENT_TYPE);
  return reply.send(problem ? JSON.stringify(outcome.body) : outcome.body);
}
