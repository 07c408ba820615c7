/** Single-use links mailed to a user, kept by the SHA-256 of their secret: queries only; the rules are in domain/account-tokens.ts. */
import type { Executor } from '@portico/store/sql';
import type { AccountTokensTable, IdentityDatabase } from './schema.ts';

type Purpose = AccountTokensTable['purpose'];

export function accountTokensTable(db: Executor<IdentityDatabase>) {
  return {
    /** Marks the account's unused tokens for `purpose` used at `at`. */
    async spendAll(accountId: string, purpose: Purpose, at: number): Promise<void> {
      await db
        .updateTable('account_tokens')
        .set({ used_at: at })
        .where('account_id', '=', accountId)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .execute();
    },
    async insert(row: AccountTokensTable): Promise<void> {
      await db.insertInto('account_tokens').values(row).execute();
    },
    /** Marks the token used if it is unused and unexpired at `at`, in one statement; its account, or undefined. */
    async spend(tokenHash: string, purpose: Purpose, at: number): Promise<string | undefined> {
      const spent = await db
        .updateTable('account_tokens')
        .set({ used_at: at })
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .returning('account_id')
        .executeTakeFirst();
      return spent?.account_id;
    },
    /** The account of the token if it is unused and unexpired at `at`. */
    async unspent(tokenHash: string, purpose: Purpose, at: number): Promise<string | undefined> {
      const row = await db
        .selectFrom('account_tokens')
        .select('account_id')
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return row?.account_id;
    },
    async deleteExpiredBefore(at: number): Promise<void> {
      await db.deleteFrom('account_tokens').where('expires_at', '<', at).execute();
    },
  };
}
