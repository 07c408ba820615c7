/**
 * Idempotency keys (draft-ietf-httpapi-idempotency-key-header): one effect per caller, key and request.
 * - the key is scoped to the caller (`sub`), so keys never collide across users;
 * - the key row is written as `processing` BEFORE the work runs (anything is charged), so a
 *   concurrent duplicate finds it and gets 409 instead of a second effect;
 * - a final outcome is stored: the same key and request replay it, the same key with a different
 *   request is a 422;
 * - work that throws stores nothing: the key is released so a retry runs again,
 *   which the domain makes safe (intent state + the processor's own idempotency key);
 * - a request that crashed leaves its row `processing`: once its lease has passed, a retry takes over.
 * The HTTP side (the header, the request's text, the answer sent) is api/idempotency.ts.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Database } from '@portico/store/sql';
import { idempotencyKeysTable } from '../data/idempotency-keys.ts';
import type { IdempotencyKeysTable, PaymentsDatabase } from '../data/schema.ts';
import { errors } from '../errors.ts';

export interface Outcome {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface IdempotentRequest {
  /** Who asks (`sub`): keys are scoped to the caller. */
  principal: string;
  key: string;
  /** The request as text: the same request gives the same text. */
  text: string;
}

export interface IdempotencyKeyService {
  /**
   * Runs `run` once per key and request; the same key and request again answer its stored
   * outcome (`replayed`). When `run` throws, the key is released and the error rethrown.
   */
  run(
    request: IdempotentRequest,
    run: () => Promise<Outcome>,
  ): Promise<{ outcome: Outcome; replayed: boolean }>;
  /** Forgets completed keys older than `retentionHours`. */
  purge(retentionHours: number): Promise<void>;
}

export function createIdempotencyKeyService(
  database: Database<PaymentsDatabase>,
  leaseMs: number,
): IdempotencyKeyService {
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
    async run({ principal, key, text }, run) {
      const claimed = await claim(principal, key, text);
      if (claimed !== true) {
        if (!(await sameRequest(claimed.request_hash, text))) {
          throw errors.IDEMPOTENCY_KEY_REUSED(
            'This Idempotency-Key was already used with a different request; use a new key for a new request',
          );
        }
        if (claimed.state === 'completed') {
          return {
            outcome: {
              status: claimed.response_status!,
              headers: JSON.parse(claimed.response_headers ?? '{}'),
              body: JSON.parse(claimed.response_body ?? 'null'),
            },
            replayed: true,
          };
        }
        throw errors.IDEMPOTENCY_KEY_IN_USE('A request with this Idempotency-Key is still being processed', {
          headers: { 'retry-after': '1' },
        });
      }

      let outcome: Outcome;
      try {
        outcome = await run();
      } catch (err) {
        await keys.release(principal, key);
        throw err;
      }
      await keys.complete(principal, key, {
        status: outcome.status,
        headers: JSON.stringify(outcome.headers ?? {}),
        body: JSON.stringify(outcome.body),
      });
      return { outcome, replayed: false };
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
