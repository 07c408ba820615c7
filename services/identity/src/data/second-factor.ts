/**
 * Where second factors are kept: one TOTP authenticator per account (its seed sealed, see
 * sealed-secrets.ts) and its recovery codes (only their HMACs). The rules that need the
 * database to be atomic are here:
 * - an authenticator guards sign-in only once a first code has confirmed it;
 * - a code is accepted only for a time step later than the last accepted one, in one
 *   conditional UPDATE, so a code (or an earlier one) replayed, even concurrently, is refused
 *   (RFC 6238 §5.2);
 * - a recovery code is spent by one conditional UPDATE: of two concurrent uses, one wins.
 */
import type { Database, Transaction } from '@portico/store/sql';
import type { IdentityDatabase } from './schema.ts';

export interface TotpAuthenticator {
  sealedSecret: string;
  confirmed: boolean;
  lastStep: number;
}

export interface SecondFactorStore {
  authenticator(accountId: string): Promise<TotpAuthenticator | undefined>;
  /** Keeps a new, unconfirmed authenticator; false when a confirmed one exists (it stays). */
  begin(accountId: string, sealedSecret: string): Promise<boolean>;
  /** Confirms the pending authenticator at `step` and replaces the recovery codes; false if none was pending. */
  confirm(accountId: string, step: number, recoveryCodeHashes: string[]): Promise<boolean>;
  /** Records `step` as used; false when it (or a later one) already was, or nothing is confirmed. */
  acceptStep(accountId: string, step: number): Promise<boolean>;
  /** Spends the unused recovery code with one of these hashes; false when there is none. */
  spendRecoveryCode(accountId: string, hashes: string[]): Promise<boolean>;
  recoveryCodesLeft(accountId: string): Promise<number>;
  /** Replaces every recovery code (used or not) of a confirmed authenticator; false when there is none. */
  replaceRecoveryCodes(accountId: string, hashes: string[]): Promise<boolean>;
  /** Removes the authenticator and the recovery codes; whether there was a confirmed one. */
  remove(accountId: string): Promise<boolean>;
}

export function secondFactorStore(database: Database<IdentityDatabase>): SecondFactorStore {
  const { db } = database;
  const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint } | undefined) =>
    Number(result?.numUpdatedRows ?? result?.numDeletedRows ?? 0) > 0;

  async function replace(trx: Transaction<IdentityDatabase>, accountId: string, hashes: string[]) {
    await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    if (hashes.length > 0) {
      await trx
        .insertInto('recovery_codes')
        .values(hashes.map((code_hash) => ({ code_hash, account_id: accountId, used_at: null })))
        .execute();
    }
  }

  return {
    async authenticator(accountId) {
      const row = await db
        .selectFrom('totp_authenticators')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row
        ? {
            sealedSecret: row.secret_sealed,
            confirmed: row.confirmed_at !== null,
            lastStep: Number(row.last_step),
          }
        : undefined;
    },
    async begin(accountId, sealedSecret) {
      const values = { secret_sealed: sealedSecret, created_at: new Date().toISOString(), last_step: 0 };
      await db
        .insertInto('totp_authenticators')
        .values({ account_id: accountId, confirmed_at: null, ...values })
        .onConflict((oc) =>
          oc.column('account_id').doUpdateSet(values).where('totp_authenticators.confirmed_at', 'is', null),
        )
        .execute();
      const row = await db
        .selectFrom('totp_authenticators')
        .select(['secret_sealed', 'confirmed_at'])
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row?.confirmed_at === null && row.secret_sealed === sealedSecret;
    },
    async confirm(accountId, step, hashes) {
      return db.transaction().execute(async (trx) => {
        const confirmed = await trx
          .updateTable('totp_authenticators')
          .set({ confirmed_at: new Date().toISOString(), last_step: step })
          .where('account_id', '=', accountId)
          .where('confirmed_at', 'is', null)
          .executeTakeFirst();
        if (!changed(confirmed)) return false;
        await replace(trx, accountId, hashes);
        return true;
      });
    },
    async replaceRecoveryCodes(accountId, hashes) {
      return db.transaction().execute(async (trx) => {
        const authenticator = await trx
          .selectFrom('totp_authenticators')
          .select('account_id')
          .where('account_id', '=', accountId)
          .where('confirmed_at', 'is not', null)
          .executeTakeFirst();
        // Codes left behind by a concurrent turn-off open nothing: a code needs a confirmed authenticator.
        if (!authenticator) return false;
        await replace(trx, accountId, hashes);
        return true;
      });
    },
    async acceptStep(accountId, step) {
      const result = await db
        .updateTable('totp_authenticators')
        .set({ last_step: step })
        .where('account_id', '=', accountId)
        .where('confirmed_at', 'is not', null)
        .where('last_step', '<', step)
        .executeTakeFirst();
      return changed(result);
    },
    async spendRecoveryCode(accountId, hashes) {
      if (hashes.length === 0) return false;
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: Date.now() })
        .where('account_id', '=', accountId)
        .where('code_hash', 'in', hashes)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return changed(result);
    },
    async recoveryCodesLeft(accountId) {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async remove(accountId) {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
        const removed = await trx
          .deleteFrom('totp_authenticators')
          .where('account_id', '=', accountId)
          .where('confirmed_at', 'is not', null)
          .executeTakeFirst();
        await trx.deleteFrom('totp_authenticators').where('account_id', '=', accountId).execute();
        return changed(removed);
      });
    },
  };
}
