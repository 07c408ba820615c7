import { columnTypes, type Migration, type SqlDialect, sql } from '@portico/store/sql';

/**
 * The profile timestamps in the store's `timestamp` column type, as in every other service
 * (`001_users` made them `text`). Where that type is `text` (SQLite) there is nothing to change;
 * on PostgreSQL the ISO-8601 text each row holds is read into `timestamptz` in place, so existing
 * profiles keep their times. `down` writes them back as the same ISO-8601 text.
 */
export function timestampsMigration(dialect: SqlDialect): Migration {
  const timestamp = columnTypes(dialect).timestamp;
  const columns = ['created_at', 'updated_at'];
  return {
    async up(db) {
      if (timestamp === 'text') return;
      for (const column of columns) {
        await sql`alter table profiles alter column ${sql.id(column)} type ${sql.raw(timestamp)}
          using ${sql.id(column)}::${sql.raw(timestamp)}`.execute(db);
      }
    },
    async down(db) {
      if (timestamp === 'text') return;
      for (const column of columns) {
        await sql`alter table profiles alter column ${sql.id(column)} type text
          using to_char(${sql.id(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.execute(db);
      }
    },
  };
}
