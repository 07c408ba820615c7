/** The payments service's tables: intents, idempotency keys, and the lease of the order sync loop. */
import { columnTypes, type Migration, type SqlDialect, sql } from '@portico/store/sql';
import { leasesMigration } from './leases.ts';

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  return {
    '001_payments': {
      async up(db) {
        await db.schema
          .createTable('payment_intents')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('order_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('amount_minor', t.bigint, (c) => c.notNull())
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) =>
            c
              .notNull()
              .check(
                sql`status in ('requires_confirmation', 'requires_payment_method', 'processing', 'succeeded', 'refunded')`,
              ),
          )
          // Set while an intent is charging or has charged: the unique index lets one intent per order do so.
          .addColumn('paying_order_id', 'text', (c) => c.unique())
          .addColumn('processing_until', t.timestamp)
          // Bumped after a decline, so the processor sees a new charge; kept after a timeout, so a retry
          // reuses the processor's idempotency key and cannot charge twice.
          .addColumn('charge_attempt', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('charge_id', 'text')
          .addColumn('card_brand', 'text')
          .addColumn('card_last4', 'text')
          .addColumn('last_error_code', 'text')
          .addColumn('last_error_message', 'text')
          .addColumn('order_sync', 'text', (c) =>
            c.notNull().check(sql`order_sync in ('not_needed', 'pending', 'done', 'rejected')`),
          )
          .addColumn('order_sync_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('order_sync_next_at', t.timestamp)
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('updated_at', t.timestamp, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('payment_intents_order')
          .on('payment_intents')
          .column('order_id')
          .execute();
        await db.schema
          .createIndex('payment_intents_sync')
          .on('payment_intents')
          .columns(['order_sync', 'order_sync_next_at'])
          .execute();

        await db.schema
          .createTable('idempotency_keys')
          .addColumn('principal', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('request_hash', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('processing', 'completed')`))
          .addColumn('locked_until', t.timestamp, (c) => c.notNull())
          .addColumn('response_status', 'integer')
          .addColumn('response_headers', 'text')
          .addColumn('response_body', 'text')
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_keys_pk', ['principal', 'key'])
          .execute();
      },
      async down(db) {
        await db.schema.dropTable('idempotency_keys').execute();
        await db.schema.dropTable('payment_intents').execute();
      },
    },
    '002_leases': leasesMigration(dialect),
  };
}
