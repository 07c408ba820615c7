import type { Migration } from '@portico/store/sql';

/** Login attempts counted per account and per IP, one row per key and window (src/domain/attempts.ts). */
export const loginAttempts: Migration = {
  async up(db) {
    await db.schema
      .createTable('login_attempts')
      .addColumn('attempt_key', 'text', (c) => c.primaryKey())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('reset_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('login_attempts').execute();
  },
};
