/** Idempotency keys and the answers stored for them: queries only; the rules are in domain/idempotency-keys.ts. */
import type { Executor } from '@portico/store/sql';
import type { IdempotencyKeysTable, PaymentsDatabase } from './schema.ts';

export interface StoredAnswer {
  status: number;
  headers: string;
  body: string;
}

export function idempotencyKeysTable(db: Executor<PaymentsDatabase>) {
  const one = (principal: string, key: string) =>
    db.updateTable('idempotency_keys').where('principal', '=', principal).where('key', '=', key);
  return {
    /** Takes a free key (`processing` until `lockedUntil`): false when someone holds or completed it. */
    async take(principal: string, key: string, requestHash: string, lockedUntil: string, now: string) {
      const inserted = await db
        .insertInto('idempotency_keys')
        .values({
          principal,
          key,
          request_hash: requestHash,
          state: 'processing',
          locked_until: lockedUntil,
          response_status: null,
          response_headers: null,
          response_body: null,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['principal', 'key']).doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    async find(principal: string, key: string): Promise<IdempotencyKeysTable | undefined> {
      return db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('principal', '=', principal)
        .where('key', '=', key)
        .executeTakeFirst();
    },
    /** Takes over a `processing` key whose holder let its lease run out, unless another retry just did. */
    async takeOver(principal: string, key: string, lockedUntil: string, newLockedUntil: string) {
      const result = await one(principal, key)
        .set({ locked_until: newLockedUntil })
        .where('state', '=', 'processing')
        .where('locked_until', '=', lockedUntil)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async complete(principal: string, key: string, answer: StoredAnswer): Promise<void> {
      await one(principal, key)
        .set({
          state: 'completed',
          response_status: answer.status,
          response_headers: answer.headers,
          response_body: answer.body,
        })
        .execute();
    },
    /** Frees a key whose request failed with no answer worth keeping. */
    async release(principal: string, key: string): Promise<void> {
      await db
        .deleteFrom('idempotency_keys')
        .where('principal', '=', principal)
        .where('key', '=', key)
        .where('state', '=', 'processing')
        .execute();
    },
    /** Forgets completed keys created before `before`. */
    async purge(before: string): Promise<void> {
      await db
        .deleteFrom('idempotency_keys')
        .where('state', '=', 'completed')
        .where('created_at', '<', before)
        .execute();
    },
  };
}
