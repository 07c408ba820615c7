/**
 * Carts carry a version: every change bumps it, and a checkout turns the cart into an
 * order only with a conditional update on the version it priced, so two concurrent
 * checkouts of one cart yield exactly one order.
 */
import { columnTypes, type Migration, type SqlDialect, sql } from '@portico/store/sql';

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  return {
    '001_cart_and_orders': {
      async up(db) {
        await db.schema
          .createTable('carts')
          .addColumn('user_id', 'text', (c) => c.primaryKey())
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', t.timestamp, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('cart_items')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('carts.user_id').onDelete('cascade'))
          .addColumn('product_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('unit_price_minor', t.bigint, (c) => c.notNull())
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('quantity', 'integer', (c) => c.notNull())
          .addColumn('added_at', t.timestamp, (c) => c.notNull())
          .addUniqueConstraint('cart_items_user_product', ['user_id', 'product_id'])
          .execute();

        await db.schema
          .createTable('orders')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) =>
            c.notNull().check(sql`status in ('pending', 'paid', 'fulfilled', 'cancelled')`),
          )
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('total_minor', t.bigint, (c) => c.notNull())
          .addColumn('payment_id', 'text')
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('updated_at', t.timestamp, (c) => c.notNull())
          .addColumn('paid_at', t.timestamp)
          .addColumn('fulfilled_at', t.timestamp)
          .addColumn('cancelled_at', t.timestamp)
          .execute();
        await db.schema
          .createIndex('orders_user_created')
          .on('orders')
          .columns(['user_id', 'created_at', 'id'])
          .execute();

        await db.schema
          .createTable('order_items')
          .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('product_id', 'text', (c) => c.notNull())
          .addColumn('category_id', 'text')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('unit_price_minor', t.bigint, (c) => c.notNull())
          .addColumn('quantity', 'integer', (c) => c.notNull())
          .addColumn('line_total_minor', t.bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('order_items_pk', ['order_id', 'position'])
          .execute();
      },
      async down(db) {
        for (const table of ['order_items', 'orders', 'cart_items', 'carts']) {
          await db.schema.dropTable(table).execute();
        }
      },
    },
  };
}
