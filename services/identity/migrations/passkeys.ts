import type { Migration } from '@portico/store/sql';

/** WebAuthn credentials per account and the challenges handed out for them (src/domain/passkeys.ts). */
export const passkeys: Migration = {
  async up(db) {
    await db.schema
      .createTable('passkeys')
      // The credential ID (base64url), as the authenticator names it in every assertion.
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      // The COSE public key, base64url.
      .addColumn('public_key', 'text', (c) => c.notNull())
      // The signature counter last seen: a lower or equal one later means a cloned authenticator.
      .addColumn('counter', 'bigint', (c) => c.notNull())
      // JSON array of the transports the browser reported (usb, nfc, ble, internal, hybrid).
      .addColumn('transports', 'text', (c) => c.notNull())
      // 'singleDevice' (bound to one authenticator) or 'multiDevice' (a synced passkey).
      .addColumn('device_type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .execute();
    await db.schema.createIndex('passkeys_account').on('passkeys').column('account_id').execute();
    await db.schema
      .createTable('webauthn_challenges')
      // What the challenge was issued for: `register:<hash of the form's ticket>` or `login:<interaction uid>`.
      .addColumn('challenge_key', 'text', (c) => c.primaryKey())
      .addColumn('challenge', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text')
      // Milliseconds since the epoch.
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('webauthn_challenges').execute();
    await db.schema.dropTable('passkeys').execute();
  },
};

/** A name the owner gives a passkey (null: unnamed, shown by its place in the list). */
export const passkeyNames: Migration = {
  async up(db) {
    await db.schema.alterTable('passkeys').addColumn('name', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('passkeys').dropColumn('name').execute();
  },
};
