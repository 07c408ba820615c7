/** The users service's one table: profiles keyed by the identity `sub`. */
import type { Migration, SqlDialect } from '@portico/store/sql';
import { timestampsMigration } from './timestamps.ts';

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '001_users': {
      async up(db) {
        await db.schema
          .createTable('profiles')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('display_name', 'text')
          .addColumn('email', 'text')
          .addColumn('version', 'integer', (c) => c.notNull())
          // Applied migrations keep making the same table: 002 moves these to columnTypes' timestamp.
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
      async down(db) {
        await db.schema.dropTable('profiles').execute();
      },
    },
    '002_timestamps': timestampsMigration(dialect),
  };
}
