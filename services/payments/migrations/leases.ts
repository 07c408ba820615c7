/** Named leases: which replica runs a singleton job (the order sync loop), until when (epoch ms, database clock). */
import { columnTypes, type Migration, type SqlDialect } from '@portico/store/sql';

export function leasesMigration(dialect: SqlDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db) {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', t.bigint, (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('leases').execute();
    },
  };
}
