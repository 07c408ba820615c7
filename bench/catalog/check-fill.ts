/**
 * The bulk fill leaves the catalog exactly as the service's own writes would: the same products
 * are written twice, once by `fill.ts` and once one at a time through the service's insert
 * (`productsTable(…).insert`, with its triggers, generated column and indexes as migrated), and
 * everything derived from them must match — each row (PostgreSQL: its search vector too;
 * SQLite: its `seq`), the count table, every entry of the FTS5 index (per term, product and
 * column), and the schema (indexes, triggers, columns).
 * `checkFilled` is the part cheap enough for every fill of the scale bench: the schema is the
 * one the migrations made and the counts are the rows' counts.
 * Usage: node bench/catalog/check-fill.ts   (BENCH_CHECK_SIZE products, default 2000;
 * BENCH_DATABASES, default sqlite,postgres; PostgreSQL from BENCH_DATABASE_URL or
 * TEST_DATABASE_URL). Exits non-zero on the first difference.
 */
import { deepStrictEqual } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Executor, openDatabase, type SqlDialect, sql } from '@portico/store/sql';
import { migrations } from '../../services/catalog/migrations/index.ts';
import { categoriesTable } from '../../services/catalog/src/data/categories.ts';
import { productsTable } from '../../services/catalog/src/data/products.ts';
import type { CatalogDatabase } from '../../services/catalog/src/data/schema.ts';
import { CREATED, fillPostgres, fillSqlite } from './fill.ts';
import { CATEGORY_COUNT, categoryId, products } from './products.ts';

type Db = Executor<CatalogDatabase>;

async function rows(db: Db, query: ReturnType<typeof sql.raw>): Promise<unknown[]> {
  return (await query.execute(db)).rows;
}

/** The schema of the products table and what hangs on it, as the database describes it. */
export async function schemaOf(db: Db, dialect: SqlDialect): Promise<unknown[]> {
  if (dialect === 'sqlite')
    return rows(
      db,
      // ANALYZE's statistics tables are not schema: the fill makes them, the service's optimize would.
      sql.raw(
        `select type, name, sql from sqlite_master where name not like 'sqlite_stat%' order by type, name`,
      ),
    );
  // Without the schema's name, which differs between the two catalogs compared.
  return rows(
    db,
    sql.raw(`select 'index' as kind, indexname as name, replace(indexdef, current_schema() || '.', '') as def
        from pg_indexes where schemaname = current_schema()
      union all
      select 'trigger', tgname, replace(pg_get_triggerdef(oid), current_schema() || '.', '') from pg_trigger
        where tgrelid = 'products'::regclass and not tgisinternal
      union all
      select 'column', column_name, concat_ws(' ', data_type, is_nullable, is_generated, generation_expression)
        from information_schema.columns where table_schema = current_schema() and table_name = 'products'
      order by 1, 2`),
  );
}

/** After a fill: the schema is `before` (what the migrations made) and the counts count the rows. */
export async function checkFilled(db: Db, dialect: SqlDialect, before: unknown[]): Promise<void> {
  deepStrictEqual(await schemaOf(db, dialect), before, 'the fill changed the schema');
  const order = 'order by category_id, in_stock';
  deepStrictEqual(
    await rows(db, sql.raw(`select category_id, in_stock, n from product_counts where n <> 0 ${order}`)),
    await rows(
      db,
      sql.raw(
        `select category_id, in_stock, count(*) as n from products group by category_id, in_stock ${order}`,
      ),
    ),
    'product_counts does not count the rows',
  );
}

/** Everything the two catalogs must share. */
async function contents(db: Db, dialect: SqlDialect): Promise<Record<string, unknown[]>> {
  const columns =
    'id, name, description, price_minor, currency, category_id, in_stock, version, created_at, updated_at';
  const derived: Record<string, unknown[]> = {};
  if (dialect === 'sqlite') {
    await sql
      .raw(`create virtual table if not exists temp.search_entries
      using fts5vocab(main, products_search, instance)`)
      .execute(db);
    await sql
      .raw(`create virtual table if not exists temp.name_search_entries
      using fts5vocab(main, products_name_search, instance)`)
      .execute(db);
    derived['FTS5 entries'] = await rows(
      db,
      sql.raw(`select term, doc, col from temp.search_entries order by term, doc, col`),
    );
    derived['FTS5 name entries'] = await rows(
      db,
      sql.raw(`select term, doc, col from temp.name_search_entries order by term, doc, col`),
    );
    // FTS5's own check: each index holds exactly what its content (the rows) gives.
    for (const index of ['products_search', 'products_name_search'])
      await sql.raw(`insert into ${index} (${index}, rank) values ('integrity-check', 1)`).execute(db);
  }
  return {
    products: await rows(
      db,
      sql.raw(
        `select ${columns}, ${dialect === 'sqlite' ? 'seq' : 'search::text as search'} from products order by id`,
      ),
    ),
    categories: await rows(db, sql.raw('select * from categories order by id')),
    product_counts: await rows(
      db,
      sql.raw('select * from product_counts where n <> 0 order by category_id, in_stock'),
    ),
    ...derived,
    schema: await schemaOf(db, dialect),
  };
}

/** The same products, written one at a time by the service's own inserts. */
async function writeThroughService(db: Db, dialect: SqlDialect, size: number): Promise<void> {
  const categories = categoriesTable(db);
  for (let c = 0; c < CATEGORY_COUNT; c++)
    await categories.insert({
      id: categoryId(c),
      name: `Category ${c}`,
      description: '',
      created_at: CREATED,
      updated_at: CREATED,
    });
  const table = productsTable(db, dialect);
  for (const p of products(0, size))
    await table.insert({
      ...p,
      currency: 'EUR',
      in_stock: dialect === 'sqlite' ? Number(p.in_stock) : p.in_stock,
      version: 1,
      created_at: CREATED,
      updated_at: CREATED,
    });
}

async function compare(dialect: SqlDialect, filled: Db, written: Db): Promise<void> {
  const [a, b] = [await contents(filled, dialect), await contents(written, dialect)];
  for (const key of Object.keys(b)) {
    deepStrictEqual(a[key], b[key], `${dialect}: ${key} differ between the fill and the service's writes`);
    console.log(`${dialect}: ${key} the same (${b[key]!.length} rows)`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = Number(process.env.BENCH_CHECK_SIZE ?? 2000);
  const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',');
  if (databases.includes('sqlite')) {
    const tmp = await mkdtemp(join(tmpdir(), 'portico-check-fill-'));
    try {
      const open = async (name: string) => {
        const database = openDatabase<CatalogDatabase>({ url: `sqlite:${join(tmp, name)}` });
        await database.migrate(migrations);
        return database;
      };
      const filled = await open('filled.db');
      const before = await schemaOf(filled.db, 'sqlite');
      await filled.close();
      fillSqlite(join(tmp, 'filled.db'), size);
      const reopened = openDatabase<CatalogDatabase>({ url: `sqlite:${join(tmp, 'filled.db')}` });
      await checkFilled(reopened.db, 'sqlite', before);
      const written = await open('written.db');
      await writeThroughService(written.db, 'sqlite', size);
      await compare('sqlite', reopened.db, written.db);
      await reopened.close();
      await written.close();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (databases.includes('postgres') && url) {
    const schemas = ['bench_check_fill_filled', 'bench_check_fill_written'];
    const drop = () => {
      for (const schema of schemas)
        spawnSync('psql', [url, '-q', '-c', `drop schema if exists ${schema} cascade`], { stdio: 'ignore' });
    };
    drop();
    const [filled, written] = schemas.map((schema) => openDatabase<CatalogDatabase>({ url, schema }));
    try {
      await filled!.migrate(migrations);
      await written!.migrate(migrations);
      const before = await schemaOf(filled!.db, 'postgres');
      await fillPostgres(url, schemas[0]!, 0, size);
      await checkFilled(filled!.db, 'postgres', before);
      await writeThroughService(written!.db, 'postgres', size);
      await compare('postgres', filled!.db, written!.db);
    } finally {
      await filled!.close();
      await written!.close();
      drop();
    }
  } else if (databases.includes('postgres')) {
    console.log('skipping PostgreSQL: set TEST_DATABASE_URL or BENCH_DATABASE_URL');
  }
}
