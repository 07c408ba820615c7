import type { Kysely } from '@portico/store/sql';

/** Named leases: which replica runs a singleton job (the order sync loop), until when (epoch ms, database clock). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}
