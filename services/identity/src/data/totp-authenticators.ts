/**
 * Each account's TOTP authenticator, its seed only sealed: queries only; the rules are in
 * domain/second-factor.ts. A time step is accepted by one conditional UPDATE (only a later
 * one than the last accepted), so a code replayed, even concurrently, is refused.
 */
import type { Executor } from '@portico/store/sql';
import type { IdentityDatabase, TotpAuthenticatorsTable } from './schema.ts';

const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }) =>
  Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0) > 0;

export function totpAuthenticatorsTable(db: Executor<IdentityDatabase>) {
  return {
    async byAccount(accountId: string): Promise<TotpAuthenticatorsTable | undefined> {
      return db
        .selectFrom('totp_authenticators')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
    },
    /** Inserts the row, or replaces the account's unconfirmed one; a confirmed one stays. */
    async putUnconfirmed(row: TotpAuthenticatorsTable): Promise<void> {
      const { account_id: _account, confirmed_at: _confirmed, ...values } = row;
      await db
        .insertInto('totp_authenticators')
        .values(row)
        .onConflict((oc) =>
          oc.column('account_id').doUpdateSet(values).where('totp_authenticators.confirmed_at', 'is', null),
        )
        .execute();
    },
    /** Confirms the unconfirmed authenticator at `step`; false when none was unconfirmed. */
    async confirm(accountId: string, at: string, step: number): Promise<boolean> {
      const result = await db
        .updateTable('totp_authenticators')
        .set({ confirmed_at: at, last_step: step })
        .where('account_id', '=', accountId)
        .where('confirmed_at', 'is', null)
        .executeTakeFirst();
      return changed(result);
    },
    async isConfirmed(accountId: string): Promise<boolean> {
      const row = await db
        .selectFrom('totp_authenticators')
        .select('account_id')
        .where('account_id', '=', accountId)
        .where('confirmed_at', 'is not', null)
        .executeTakeFirst();
      return row !== undefined;
    },
    /** Records `step` as the last accepted; false when it (or a later one) already was, or none is confirmed. */
    async acceptStep(accountId: string, step: number): Promise<boolean> {
      const result = await db
        .updateTable('totp_authenticators')
        .set({ last_step: step })
        .where('account_id', '=', accountId)
        .where('confirmed_at', 'is not', null)
        .where('last_step', '<', step)
        .executeTakeFirst();
      return changed(result);
    },
    /** Deletes the account's authenticator; whether a confirmed one was deleted. */
    async delete(accountId: string): Promise<boolean> {
      const confirmed = await db
        .deleteFrom('totp_authenticators')
        .where('account_id', '=', accountId)
        .where('confirmed_at', 'is not', null)
        .executeTakeFirst();
      await db.deleteFrom('totp_authenticators').where('account_id', '=', accountId).execute();
      return changed(confirmed);
    },
  };
}
