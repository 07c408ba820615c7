/**
 * WebAuthn challenges handed to a browser: queries only; the rules are in domain/passkeys.ts.
 * A challenge is spent by one DELETE … RETURNING: of two answers to it, one finds it.
 */
import type { Executor } from '@portico/store/sql';
import type { IdentityDatabase, WebauthnChallengesTable } from './schema.ts';

export function webauthnChallengesTable(db: Executor<IdentityDatabase>) {
  return {
    /** Keeps the challenge, replacing an earlier one under the same key. */
    async put(row: WebauthnChallengesTable): Promise<void> {
      const { challenge_key: _key, ...values } = row;
      await db
        .insertInto('webauthn_challenges')
        .values(row)
        .onConflict((oc) => oc.column('challenge_key').doUpdateSet(values))
        .execute();
    },
    /** The account of the challenge under `key` if it is unexpired at `at`, without spending it. */
    async accountOf(key: string, at: number): Promise<string | null | undefined> {
      const row = await db
        .selectFrom('webauthn_challenges')
        .select('account_id')
        .where('challenge_key', '=', key)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return row?.account_id;
    },
    /** Deletes the challenge under `key` and answers it, expired or not: a second take finds nothing. */
    async take(key: string): Promise<WebauthnChallengesTable | undefined> {
      return db
        .deleteFrom('webauthn_challenges')
        .where('challenge_key', '=', key)
        .returningAll()
        .executeTakeFirst();
    },
    async deleteExpired(at: number): Promise<void> {
      await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', at).execute();
    },
  };
}
