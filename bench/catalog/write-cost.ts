/**
 * Where a product write's time goes, at each size: creates through the service's own insert
 * (`productsTable(…).insert`, one statement in its own transaction, as POST makes it), timed one at
 * a time, first with the schema the migrations made, then taking away one thing each write
 * maintains: the full-text index (SQLite: the FTS5 triggers; PostgreSQL: the GIN index, its
 * generated column stays), the count triggers, the secondary B-tree indexes. The sizes take turns
 * every ten writes, so the machine's load falls on all of them alike.
 * Usage: node bench/catalog/write-cost.ts   (BENCH_SIZES, default 1000,1000000; BENCH_WRITES per
 * step and size, default 300; BENCH_DATABASES, default sqlite,postgres; PostgreSQL from
 * BENCH_DATABASE_URL or TEST_DATABASE_URL). Prints its table; the catalogs are dropped after.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Executor, openDatabase, sql, uuidv7 } from '@portico/store/sql';
import { migrations } from '../../services/catalog/migrations/index.ts';
import { productsTable } from '../../services/catalog/src/data/products.ts';
import type { CatalogDatabase } from '../../services/catalog/src/data/schema.ts';
import { describeFill, fillPostgres, fillSqlite } from './fill.ts';
import { CATEGORY_COUNT, categoryId } from './products.ts';

const SIZES = (process.env.BENCH_SIZES ?? '1000,1000000').split(',').map(Number);
const WRITES = Number(process.env.BENCH_WRITES ?? 300);
const DATABASES = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',');
const ROUND = 10;
const SCHEMA = 'bench_catalog_write_cost';

/** What each step takes away, cumulatively, per dialect. */
const STEPS: Array<{ label: string; sqlite: string[]; postgres: string[] }> = [
  { label: 'as migrated', sqlite: [], postgres: [] },
  {
    label: 'without the full-text index',
    sqlite: ['drop trigger products_search_insert'],
    postgres: ['drop index products_search'],
  },
  {
    label: 'and without the count triggers',
    sqlite: ['drop trigger products_count_insert'],
    postgres: ['drop trigger products_count_insert on products'],
  },
  {
    label: 'and without the secondary B-trees',
    sqlite: ['products_category_id', 'products_in_stock_id', 'products_category_in_stock_id'].map(
      (i) => `drop index ${i}`,
    ),
    postgres: ['products_category_id', 'products_in_stock_id', 'products_category_in_stock_id'].map(
      (i) => `drop index ${i}`,
    ),
  },
];

interface Catalog {
  size: number;
  db: Executor<CatalogDatabase>;
  close(): Promise<void>;
}

function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function measure(dialect: 'sqlite' | 'postgres', catalogs: Catalog[]): Promise<string[]> {
  const lines = [
    `## ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
    '',
    `| create, ${WRITES} one at a time | ${catalogs.map((c) => `p50 / p99 / mean ms at ${c.size.toLocaleString('en-US')}`).join(' | ')} | p50, p99 ${catalogs.at(-1)!.size.toLocaleString('en-US')} / ${catalogs[0]!.size.toLocaleString('en-US')} | load |`,
    `|---|${catalogs.map(() => '---:').join('|')}|---:|---|`,
  ];
  let n = 0;
  for (const step of STEPS) {
    for (const c of catalogs) for (const statement of step[dialect]) await sql.raw(statement).execute(c.db);
    const samples = catalogs.map(() => [] as number[]);
    const load = loadavg()[0]!;
    for (let round = 0; round < WRITES / ROUND; round++) {
      for (const [k, c] of catalogs.entries()) {
        const table = productsTable(c.db, dialect);
        for (let i = 0; i < ROUND; i++, n++) {
          const now = new Date().toISOString();
          const t0 = performance.now();
          await table.insert({
            id: uuidv7(),
            name: `bench ${n} cable`,
            description: 'written by the write-cost bench',
            price_minor: 999,
            currency: 'EUR',
            category_id: categoryId(n % CATEGORY_COUNT),
            in_stock: dialect === 'sqlite' ? 1 : true,
            version: 1,
            created_at: now,
            updated_at: now,
          });
          samples[k]!.push(performance.now() - t0);
        }
      }
    }
    const cells = samples.map(
      (s) =>
        `${percentile(s, 0.5).toFixed(2)} / ${percentile(s, 0.99).toFixed(2)} / ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)}`,
    );
    const ratio = (q: number) => (percentile(samples.at(-1)!, q) / percentile(samples[0]!, q)).toFixed(2);
    lines.push(
      `| ${step.label} | ${cells.join(' | ')} | ${ratio(0.5)}x, ${ratio(0.99)}x | ${load.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} |`,
    );
  }
  return [...lines, ''];
}

const report = ['# Product creates by size, and what each maintained structure costs', ''];

if (DATABASES.includes('sqlite')) {
  const tmp = await mkdtemp(join(tmpdir(), 'portico-write-cost-'));
  const catalogs: Catalog[] = [];
  try {
    for (const size of SIZES) {
      const file = join(tmp, `catalog-${size}.db`);
      let database = openDatabase<CatalogDatabase>({ url: `sqlite:${file}` });
      await database.migrate(migrations);
      await database.close();
      console.log(`SQLite fill, ${size}: ${describeFill(fillSqlite(file, size))}`);
      database = openDatabase<CatalogDatabase>({ url: `sqlite:${file}` });
      catalogs.push({ size, db: database.db, close: () => database.close() });
    }
    report.push(...(await measure('sqlite', catalogs)));
  } finally {
    for (const c of catalogs) await c.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

const postgres = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (DATABASES.includes('postgres') && postgres) {
  const schema = (size: number) => `${SCHEMA}_${size}`;
  const dropSchemas = () => {
    for (const size of SIZES)
      spawnSync('psql', [postgres, '-q', '-c', `drop schema if exists ${schema(size)} cascade`], {
        stdio: 'ignore',
      });
  };
  dropSchemas();
  const catalogs: Catalog[] = [];
  try {
    for (const size of SIZES) {
      const database = openDatabase<CatalogDatabase>({ url: postgres, schema: schema(size) });
      catalogs.push({ size, db: database.db, close: () => database.close() });
      await database.migrate(migrations);
      console.log(
        `PostgreSQL fill, ${size}: ${describeFill(await fillPostgres(postgres, schema(size), 0, size))}`,
      );
    }
    report.push(...(await measure('postgres', catalogs)));
  } finally {
    for (const c of catalogs) await c.close();
    dropSchemas();
  }
}

console.log(report.join('\n'));
