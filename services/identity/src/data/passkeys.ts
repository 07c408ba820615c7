/**
 * Where passkeys are kept: each account's WebAuthn credentials (public key, signature
 * counter, transports) and the challenges handed out for registering or using one.
 * - A challenge is spent by one DELETE … RETURNING: of two answers to it, one finds it.
 * - A counter moves only forward from the value the check was made against, in one
 *   conditional UPDATE: two assertions racing with the same counter cannot both pass.
 */
import type { Database } from '@portico/store/sql';
import type { IdentityDatabase } from './schema.ts';

export interface StoredPasskey {
  id: string;
  accountId: string;
  /** The COSE public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  createdAt: string;
  lastUsedAt: string | null;
  /** The owner's name for it; null: unnamed. */
  name: string | null;
}

export interface PasskeyStore {
  find(id: string): Promise<StoredPasskey | undefined>;
  list(accountId: string): Promise<StoredPasskey[]>;
  /** Keeps a new credential; false when that credential ID is already registered. */
  add(passkey: Omit<StoredPasskey, 'createdAt' | 'lastUsedAt' | 'name'>): Promise<boolean>;
  /** Names one passkey of the account; false when it has none by that ID. */
  rename(accountId: string, id: string, name: string): Promise<boolean>;
  /** Moves the counter from `from` to `to`; false when another assertion moved it first. */
  used(id: string, from: number, to: number): Promise<boolean>;
  /** Removes one passkey of the account; false when the account has none by that ID. */
  remove(accountId: string, id: string): Promise<boolean>;
  /** Removes every passkey of the account; how many there were. */
  removeAll(accountId: string): Promise<number>;
  /** Keeps a challenge under `key` (replacing an earlier one) for `ttlSeconds`. */
  putChallenge(key: string, challenge: string, accountId: string | null, ttlSeconds: number): Promise<void>;
  /** The account an unexpired challenge under `key` was issued for, without spending it. */
  challengeAccount(key: string): Promise<string | undefined>;
  /** The unexpired challenge under `key`, spent: a second take finds nothing. */
  takeChallenge(key: string): Promise<{ challenge: string; accountId: string | null } | undefined>;
  sweep(): Promise<void>;
}

export function passkeyStore(database: Database<IdentityDatabase>): PasskeyStore {
  const { db } = database;
  const toPasskey = (row: IdentityDatabase['passkeys']): StoredPasskey => ({
    id: row.id,
    accountId: row.account_id,
    publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    name: row.name,
  });

  return {
    async find(id) {
      const row = await db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toPasskey(row) : undefined;
    },
    async list(accountId) {
      const rows = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      return rows.map(toPasskey);
    },
    async add(passkey) {
      const result = await db
        .insertInto('passkeys')
        .values({
          id: passkey.id,
          account_id: passkey.accountId,
          public_key: Buffer.from(passkey.publicKey).toString('base64url'),
          counter: passkey.counter,
          transports: JSON.stringify(passkey.transports),
          device_type: passkey.deviceType,
          created_at: new Date().toISOString(),
          last_used_at: null,
          name: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async used(id, from, to) {
      const result = await db
        .updateTable('passkeys')
        .set({ counter: to, last_used_at: new Date().toISOString() })
        .where('id', '=', id)
        .where('counter', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows ?? 0) > 0;
    },
    async rename(accountId, id, name) {
      const result = await db
        .updateTable('passkeys')
        .set({ name })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows ?? 0) > 0;
    },
    async remove(accountId, id) {
      const result = await db
        .deleteFrom('passkeys')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows ?? 0) > 0;
    },
    async removeAll(accountId) {
      const result = await db.deleteFrom('passkeys').where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows ?? 0);
    },
    async putChallenge(key, challenge, accountId, ttlSeconds) {
      const values = { challenge, account_id: accountId, expires_at: Date.now() + ttlSeconds * 1000 };
      await db
        .insertInto('webauthn_challenges')
        .values({ challenge_key: key, ...values })
        .onConflict((oc) => oc.column('challenge_key').doUpdateSet(values))
        .execute();
    },
    async challengeAccount(key) {
      const row = await db
        .selectFrom('webauthn_challenges')
        .select('account_id')
        .where('challenge_key', '=', key)
        .where('expires_at', '>', Date.now())
        .executeTakeFirst();
      return row?.account_id ?? undefined;
    },
    async takeChallenge(key) {
      const row = await db
        .deleteFrom('webauthn_challenges')
        .where('challenge_key', '=', key)
        .returning(['challenge', 'account_id', 'expires_at'])
        .executeTakeFirst();
      if (!row || Number(row.expires_at) <= Date.now()) return undefined;
      return { challenge: row.challenge, accountId: row.account_id };
    },
    async sweep() {
      await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', Date.now()).execute();
    },
  };
}
