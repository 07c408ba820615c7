/**
 * Each account's WebAuthn credentials: queries only; the rules are in domain/passkeys.ts.
 * A counter moves only forward from the value the check was made against, in one
 * conditional UPDATE: two assertions racing with the same counter cannot both pass.
 */
import type { Executor } from '@portico/store/sql';
import type { IdentityDatabase, PasskeysTable } from './schema.ts';

export function passkeysTable(db: Executor<IdentityDatabase>) {
  return {
    async byId(id: string): Promise<PasskeysTable | undefined> {
      return db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async ofAccount(accountId: string): Promise<PasskeysTable[]> {
      return db
        .selectFrom('passkeys')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
    },
    /** False when a credential with that ID is already registered. */
    async insert(row: PasskeysTable): Promise<boolean> {
      const result = await db
        .insertInto('passkeys')
        .values(row)
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    /** Moves the counter from `from` to `to`; false when another assertion moved it first. */
    async used(id: string, from: number, to: number, at: string): Promise<boolean> {
      const result = await db
        .updateTable('passkeys')
        .set({ counter: to, last_used_at: at })
        .where('id', '=', id)
        .where('counter', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows ?? 0) > 0;
    },
    /** False when the account has no passkey by that ID. */
    async rename(accountId: string, id: string, name: string): Promise<boolean> {
      const result = await db
        .updateTable('passkeys')
        .set({ name })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows ?? 0) > 0;
    },
    /** False when the account has no passkey by that ID. */
    async delete(accountId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('passkeys')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows ?? 0) > 0;
    },
    /** How many there were. */
    async deleteAll(accountId: string): Promise<number> {
      const result = await db.deleteFrom('passkeys').where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows ?? 0);
    },
  };
}
