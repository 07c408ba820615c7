/**
 * Single-use secrets mailed to a user (email verification, password reset). The secret
 * itself is only ever in the mail: the table keeps its SHA-256, so a read of the
 * database yields no usable link. A link is spent atomically: of two concurrent uses
 * only one finds it unused.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '@portico/store/sql';
import { accountTokensTable } from '../data/account-tokens.ts';
import type { AccountTokensTable, IdentityDatabase } from '../data/schema.ts';

export type TokenPurpose = AccountTokensTable['purpose'];

export interface AccountTokenService {
  /** A fresh secret for the account; earlier unused ones for the same purpose stop working. */
  issue(accountId: string, purpose: TokenPurpose, ttlSeconds: number): Promise<string>;
  /** The account the secret was for, when it is unused, unexpired and for `purpose`; spends it. */
  consume(secret: string, purpose: TokenPurpose): Promise<string | undefined>;
  /** Whether the secret would be accepted, without spending it (to show the form). */
  peek(secret: string, purpose: TokenPurpose): Promise<string | undefined>;
  sweep(): Promise<void>;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('base64url');

export function createAccountTokenService(database: Database<IdentityDatabase>): AccountTokenService {
  const tokens = accountTokensTable(database.db);
  return {
    async issue(accountId, purpose, ttlSeconds) {
      const secret = randomBytes(32).toString('base64url');
      const now = Date.now();
      await tokens.spendAll(accountId, purpose, now);
      await tokens.insert({
        token_hash: hash(secret),
        account_id: accountId,
        purpose,
        expires_at: now + ttlSeconds * 1000,
        used_at: null,
      });
      return secret;
    },
    consume: (secret, purpose) => tokens.spend(hash(secret), purpose, Date.now()),
    peek: (secret, purpose) => tokens.unspent(hash(secret), purpose, Date.now()),
    sweep: () => tokens.deleteExpiredBefore(Date.now() - 86_400_000),
  };
}
