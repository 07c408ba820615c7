import { columnTypes, type Migration, type SqlDialect } from '@portico/store/sql';

/**
 * What customers bought, as the orders service announces it (`orders.events`): one row per
 * product of an order, kept for recommendations. A cancelled order keeps its rows, marked, so a
 * cancellation heard before its placement is not undone by it.
 */
export function purchasesMigration(dialect: SqlDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db) {
      await db.schema
        .createTable('purchases')
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('product_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('category_id', 'text')
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('cancelled', t.boolean, (c) => c.notNull())
        .addColumn('ordered_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('purchases_pk', ['order_id', 'product_id'])
        .execute();
      await db.schema
        .createIndex('purchases_user')
        .on('purchases')
        .columns(['user_id', 'product_id'])
        .execute();
      await db.schema.createIndex('purchases_product').on('purchases').column('product_id').execute();
    },
    async down(db) {
      await db.schema.dropTable('purchases').execute();
    },
  };
}
