/** The users service's one table: profiles keyed by the identity `sub`. */
import type { Migration } from '@portico/store/sql';

export const migrations: Record<string, Migration> = {
  '001_users': {
    async up(db) {
      await db.schema
        .createTable('profiles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('display_name', 'text')
        .addColumn('email', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('profiles').execute();
    },
  },
};
