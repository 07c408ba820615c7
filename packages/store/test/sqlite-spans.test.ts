/**
 * SQLite's SQL spans (src/sql/sqlite-spans.ts), read back from the in-process trace store the
 * embedded default keeps: one CLIENT span per statement under the request's span, named and
 * attributed after the database semantic conventions, values never in the query text, a failed
 * statement marked as an error; none outside a request.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { recentTraceStore, startTelemetry, stopTelemetry } from '@portico/telemetry';
import type { Database } from '../src/sql/index.ts';

interface DB {
  products: { id: string; name: string; price: number };
  stock: { product_id: string; count: number };
}

let database: Database<DB>;

before(async () => {
  process.env.PORTICO_RECENT_TRACES = '20';
  assert.deepEqual(await startTelemetry('store-test'), { tracing: true });
  // The store decides when the database opens whether to trace, as a service's build does.
  const { openDatabase } = await import('../src/sql/index.ts');
  database = openDatabase<DB>({ url: 'sqlite::memory:' });
  await database.migrate({
    '001': {
      async up(db) {
        await db.schema
          .createTable('products')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('price', 'integer', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('stock')
          .addColumn('product_id', 'text')
          .addColumn('count', 'integer')
          .execute();
      },
    },
  });
});

after(async () => {
  await database?.close();
  await stopTelemetry();
});

/** Runs `work` under a request-like span and returns that trace's spans other than the parent. */
async function underRequest(work: () => Promise<unknown>) {
  const tracer = trace.getTracer('test');
  const traceId = await tracer.startActiveSpan('GET /products', async (span) => {
    try {
      await work().catch(() => {});
      return span.spanContext().traceId;
    } finally {
      span.end();
    }
  });
  const kept = recentTraceStore()!.get(traceId)!;
  const parent = kept.spans.find((s) => s.name === 'GET /products')!;
  return { parent, sql: kept.spans.filter((s) => s !== parent) };
}

test('a query under a request is a CLIENT span named after its operation and table, values left out', async () => {
  const { parent, sql } = await underRequest(async () => {
    await database.db.insertInto('products').values({ id: 'p1', name: 'secret-name', price: 4200 }).execute();
    await database.db.selectFrom('products').selectAll().where('price', '>', 1000).execute();
  });
  assert.deepEqual(
    sql.map((s) => s.name),
    ['INSERT products', 'SELECT products'],
  );
  for (const span of sql) {
    assert.equal(span.kind, 'client');
    assert.equal(span.parent_span_id, parent.span_id, `${span.name} is a child of the request's span`);
    assert.equal(span.attributes['db.system.name'], 'sqlite');
    assert.equal(span.attributes['db.collection.name'], 'products');
    assert.doesNotMatch(String(span.attributes['db.query.text']), /secret-name|4200|1000/);
  }
  const select = sql[1]!;
  assert.equal(select.attributes['db.operation.name'], 'SELECT');
  assert.match(String(select.attributes['db.query.text']), /^select \* from "products" where "price" > \?$/);
  assert.equal(select.attributes['db.response.returned_rows'], 1);
  assert.equal(select.status, 'unset');
});

test('a join names no single table; a transaction’s own statements are spans too', async () => {
  const { sql } = await underRequest(() =>
    database.db
      .transaction()
      .execute((tx) =>
        tx
          .selectFrom('products')
          .innerJoin('stock', 'stock.product_id', 'products.id')
          .select(['products.id', 'stock.count'])
          .execute(),
      ),
  );
  assert.deepEqual(
    sql.map((s) => s.name),
    ['BEGIN', 'SELECT', 'COMMIT'],
  );
  assert.equal(sql[1]!.attributes['db.collection.name'], undefined);
});

test('a failing statement is an error span with SQLite’s code', async () => {
  const { sql } = await underRequest(() =>
    database.db.insertInto('products').values({ id: 'p1', name: 'again', price: 1 }).execute(),
  );
  const [insert] = sql;
  assert.equal(insert?.name, 'INSERT products');
  assert.equal(insert.status, 'error');
  assert.match(insert.status_message ?? '', /UNIQUE constraint failed/);
  // SQLITE_CONSTRAINT_PRIMARYKEY
  assert.equal(insert.attributes['db.response.status_code'], '1555');
  assert.equal(insert.attributes['error.type'], '1555');
});

test('outside a request (start-up, migrations) a query makes no trace', async () => {
  const before = recentTraceStore()!.list().length;
  await database.db.selectFrom('products').selectAll().execute();
  assert.equal(recentTraceStore()!.list().length, before);
});
