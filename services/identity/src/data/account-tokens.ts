/**
 * Single-use secrets mailed to a user (email verification, password reset). The secret
 * itself is only ever in the mail: the table keeps its SHA-256, so a read of the
 * database yields no usable link. A link is spent atomically: of two concurrent uses
 * only one finds it unused.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '@portico/store/sql';
import type { AccountTokensTable, IdentityDatabase } from './schema.ts';

export type TokenPurpose = AccountTokensTable['purpose'];

export interface AccountTokens {
  /** A fresh secret for the account; earlier unused ones for the same purpose stop working. */
  issue(accountId: string, purpose: TokenPurpose, ttlSeconds: number): Promise<string>;
  /** The account the secret was for, when it is unused, unexpired and for `purpose`; spends it. */
  consume(secret: string, purpose: TokenPurpose): Promise<string | undefined>;
  /** Whether the secret would be accepted, without spending it (to show the form). */
  peek(secret: string, purpose: TokenPurpose): Promise<string | undefined>;
  sweep(): Promise<void>;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('base64url');

export function accountTokens(database: Database<IdentityDatabase>): AccountTokens {
  const { db } = database;
  return {
    async issue(accountId, purpose, ttlSeconds) {
      const secret = randomBytes(32).toString('base64url');
      const now = Date.now();
      await db
        .updateTable('account_tokens')
        .set({ used_at: now })
        .where('account_id', '=', accountId)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .execute();
      await db
        .insertInto('account_tokens')
        .values({
          token_hash: hash(secret),
          account_id: accountId,
          purpose,
          expires_at: now + ttlSeconds * 1000,
          used_at: null,
        })
        .execute();
      return secret;
    },
    async consume(secret, purpose) {
      const now = Date.now();
      const spent = await db
        .updateTable('account_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', hash(secret))
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('account_id')
        .executeTakeFirst();
      return spent?.account_id;
    },
    async peek(secret, purpose) {
      const row = await db
        .selectFrom('account_tokens')
        .select('account_id')
        .where('token_hash', '=', hash(secret))
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', Date.now())
        .executeTakeFirst();
      return row?.account_id;
    },
    async sweep() {
      await db
        .deleteFrom('account_tokens')
        .where('expires_at', '<', Date.now() - 86_400_000)
        .execute();
    },
  };
}
