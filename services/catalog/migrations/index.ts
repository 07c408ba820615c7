import { columnTypes, type Migration, type SqlDialect, sql } from '@portico/store/sql';
import { purchasesMigration } from './purchases.ts';
import { scaleMigration } from './scale.ts';
import { searchAutomergeMigration } from './search-automerge.ts';
import { searchColumnDetailMigration } from './search-column-detail.ts';
import { searchNameWordsMigration } from './search-name-words.ts';
import { searchNamesMigration } from './search-names.ts';
import { searchPrefixesMigration } from './search-prefixes.ts';
import { searchVectorMigration } from './search-vector.ts';

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  return {
    '001_catalog': {
      async up(db) {
        await db.schema
          .createTable('categories')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('updated_at', t.timestamp, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('categories_name_unique')
          .on('categories')
          .expression(sql`lower(name)`)
          .unique()
          .execute();

        await db.schema
          .createTable('products')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('price_minor', t.bigint, (c) => c.notNull().check(sql`price_minor > 0`))
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('category_id', 'text', (c) => c.notNull().references('categories.id'))
          .addColumn('in_stock', t.boolean, (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('updated_at', t.timestamp, (c) => c.notNull())
          .execute();
        // List pages filter by category and/or stock and walk the primary key (UUIDv7: creation order).
        await db.schema
          .createIndex('products_category_id')
          .on('products')
          .columns(['category_id', 'id'])
          .execute();
        await db.schema
          .createIndex('products_in_stock_id')
          .on('products')
          .columns(['in_stock', 'id'])
          .execute();
        await db.schema
          .createIndex('products_category_in_stock_id')
          .on('products')
          .columns(['category_id', 'in_stock', 'id'])
          .execute();
      },
      async down(db) {
        await db.schema.dropTable('products').execute();
        await db.schema.dropTable('categories').execute();
      },
    },
    '002_counts_and_search': scaleMigration(dialect),
    ...(dialect === 'sqlite' ? { '003_search_prefixes': searchPrefixesMigration } : {}),
    ...(dialect === 'postgres' ? { '004_search_vector': searchVectorMigration } : {}),
    '005_purchases': purchasesMigration(dialect),
    ...(dialect === 'postgres' ? { '006_search_name_words': searchNameWordsMigration } : {}),
    ...(dialect === 'sqlite' ? { '007_search_column_detail': searchColumnDetailMigration } : {}),
    ...(dialect === 'sqlite' ? { '008_search_automerge': searchAutomergeMigration } : {}),
    ...(dialect === 'sqlite' ? { '009_search_names': searchNamesMigration } : {}),
  };
}
