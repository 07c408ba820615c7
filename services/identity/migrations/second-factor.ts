import type { Migration } from '@portico/store/sql';

/** TOTP authenticators and recovery codes, one authenticator per account (src/domain/second-factor.ts). */
export const secondFactor: Migration = {
  async up(db) {
    await db.schema
      .createTable('totp_authenticators')
      .addColumn('account_id', 'text', (c) => c.primaryKey())
      // AES-256-GCM under a key derived from the cookie keys: a read of the database yields no secret.
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      // Null until the first code confirms it: until then it does not guard sign-in.
      .addColumn('confirmed_at', 'text')
      // The RFC 6238 time step of the last accepted code: a code of that step or earlier is refused.
      .addColumn('last_step', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('recovery_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('recovery_codes_account').on('recovery_codes').column('account_id').execute();
  },
  async down(db) {
    await db.schema.dropTable('recovery_codes').execute();
    await db.schema.dropTable('totp_authenticators').execute();
  },
};
