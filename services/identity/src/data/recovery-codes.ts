/**
 * Single-use recovery codes, only their HMACs kept: queries only; the rules are in
 * domain/second-factor.ts. A code is spent by one conditional UPDATE: of two concurrent
 * uses, one wins.
 */
import type { Executor } from '@portico/store/sql';
import type { IdentityDatabase } from './schema.ts';

export function recoveryCodesTable(db: Executor<IdentityDatabase>) {
  return {
    /** Every code of the account (used or not) in place of `hashes`. */
    async replace(accountId: string, hashes: string[]): Promise<void> {
      await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
      if (hashes.length > 0) {
        await db
          .insertInto('recovery_codes')
          .values(hashes.map((code_hash) => ({ code_hash, account_id: accountId, used_at: null })))
          .execute();
      }
    },
    /** Marks used the unused code with one of these hashes; false when there is none. */
    async spend(accountId: string, hashes: string[], at: number): Promise<boolean> {
      if (hashes.length === 0) return false;
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: at })
        .where('account_id', '=', accountId)
        .where('code_hash', 'in', hashes)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows ?? 0) > 0;
    },
    async unusedCount(accountId: string): Promise<number> {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async deleteAll(accountId: string): Promise<void> {
      await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    },
  };
}
