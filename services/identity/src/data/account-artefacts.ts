/** The index of each account's sessions and grants: queries only; its use is in accounts/sessions.ts. */
import type { Executor } from '@portico/store/sql';
import type { AccountArtefactsTable, IdentityDatabase } from './schema.ts';

type Kind = AccountArtefactsTable['kind'];

export function accountArtefactsTable(db: Executor<IdentityDatabase>) {
  return {
    /** Inserts the row, or moves the known one's expiry. */
    async put(row: AccountArtefactsTable): Promise<void> {
      await db
        .insertInto('account_artefacts')
        .values(row)
        .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({ expires_at: row.expires_at }))
        .execute();
    },
    async delete(kind: Kind, id: string): Promise<void> {
      await db.deleteFrom('account_artefacts').where('kind', '=', kind).where('id', '=', id).execute();
    },
    async accountOf(kind: Kind, id: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('account_artefacts')
        .select('account_id')
        .where('kind', '=', kind)
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.account_id;
    },
    /** Every artefact of the account, expired or not. */
    async ofAccount(accountId: string): Promise<Pick<AccountArtefactsTable, 'kind' | 'id'>[]> {
      return db
        .selectFrom('account_artefacts')
        .select(['kind', 'id'])
        .where('account_id', '=', accountId)
        .execute();
    },
    /** The account's artefacts unexpired at `at` (seconds), newest first. */
    async liveOfAccount(accountId: string, at: number): Promise<AccountArtefactsTable[]> {
      return db
        .selectFrom('account_artefacts')
        .selectAll()
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
        .orderBy('created_at', 'desc')
        .execute();
    },
    async deleteExpired(at: number): Promise<void> {
      await db.deleteFrom('account_artefacts').where('expires_at', '<', at).execute();
    },
  };
}
