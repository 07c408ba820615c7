/**
 * Bulk loads for the scale bench, into a catalog whose schema the service has already
 * migrated: SQLite through node:sqlite (multi-row INSERTs in one transaction), PostgreSQL
 * through psql's COPY. The count triggers stay on, so counts are filled the way every write
 * fills them. SQLite builds its indexes once at the end instead of row by row (below); the
 * schema it ends with is the one the migrations made, read back from sqlite_master.
 */
import { spawn } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { CATEGORY_COUNT, categoryId, products } from './products.ts';

const ROWS_PER_INSERT = 500;
const CREATED = '2026-01-01T00:00:00.000Z';
/** FTS5's buffer of pending index entries before it writes a segment (default 1 MiB). */
const FTS5_HASH_SIZE = { bulk: 256 * 1024 * 1024, default: 1024 * 1024 };

interface SchemaObject {
  name: string;
  sql: string;
}

export function fillSqlite(path: string, from: number, to: number): void {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = OFF');
  db.exec('PRAGMA cache_size = -262144');
  db.exec('BEGIN');
  // Feeding FTS5 one row at a time (the search triggers) writes many small segments and merges
  // them over and over; one 'rebuild' from the rows with a large buffer writes few. The
  // products indexes, too, are cheaper built once than kept in order through a million inserts.
  // All in the fill's transaction: a failed fill leaves the schema as it was.
  const deferred = db
    .prepare(
      `select type, name, sql from sqlite_master where tbl_name = 'products' and sql is not null
        and (type = 'index' or (type = 'trigger' and name like 'products_search_%'))`,
    )
    .all() as unknown as Array<SchemaObject & { type: string }>;
  for (const object of deferred) db.exec(`drop ${object.type} ${object.name}`);
  if (from === 0) {
    const category = db.prepare(
      'insert into categories (id, name, description, created_at, updated_at) values (?, ?, ?, ?, ?)',
    );
    for (let c = 0; c < CATEGORY_COUNT; c++)
      category.run(categoryId(c), `Category ${c}`, '', CREATED, CREATED);
  }
  const columns =
    '(id, name, description, price_minor, currency, category_id, in_stock, version, created_at, updated_at)';
  const tuple = `(?, ?, ?, ?, 'EUR', ?, ?, 1, '${CREATED}', '${CREATED}')`;
  const full = db.prepare(
    `insert into products ${columns} values ${Array(ROWS_PER_INSERT).fill(tuple).join(',')}`,
  );
  let batch: Array<string | number> = [];
  for (const p of products(from, to)) {
    batch.push(p.id, p.name, p.description, p.price_minor, p.category_id, p.in_stock ? 1 : 0);
    if (batch.length === ROWS_PER_INSERT * 6) {
      full.run(...batch);
      batch = [];
    }
  }
  if (batch.length > 0)
    db.prepare(
      `insert into products ${columns} values ${Array(batch.length / 6)
        .fill(tuple)
        .join(',')}`,
    ).run(...batch);
  db.exec(`insert into products_search (products_search, rank) values ('hashsize', ${FTS5_HASH_SIZE.bulk})`);
  db.exec(`insert into products_search (products_search) values ('rebuild')`);
  db.exec(
    `insert into products_search (products_search, rank) values ('hashsize', ${FTS5_HASH_SIZE.default})`,
  );
  for (const object of deferred) db.exec(object.sql);
  db.exec('COMMIT');
  db.exec('ANALYZE');
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Runs `command` in psql; its output (unaligned, tuples only) is returned. */
function psql(url: string, schema: string, command: string, input?: () => Iterable<string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'psql',
      [url, '-v', 'ON_ERROR_STOP=1', '-q', '-At', '-c', `set search_path = ${schema}`, '-c', command],
      {
        stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`psql: ${stderr}`))));
    if (input) {
      const stdin = child.stdin!;
      const lines = input()[Symbol.iterator]();
      const pump = () => {
        for (;;) {
          const next = lines.next();
          if (next.done) return stdin.end();
          if (!stdin.write(next.value)) return stdin.once('drain', pump);
        }
      };
      pump();
    }
  });
}

const csv = (text: string) => `"${text.replaceAll('"', '""')}"`;

export async function fillPostgres(url: string, schema: string, from: number, to: number): Promise<void> {
  if (from === 0) {
    const values = Array.from(
      { length: CATEGORY_COUNT },
      (_, c) => `('${categoryId(c)}', 'Category ${c}', '', '${CREATED}', '${CREATED}')`,
    );
    await psql(
      url,
      schema,
      `insert into categories (id, name, description, created_at, updated_at) values ${values.join(',')}`,
    );
  }
  // The secondary indexes (not the primary key's) are built once after the COPY instead of
  // kept in order row by row: a GIN index is built from sorted entries far faster than it
  // takes a million inserts. The definitions are the migrations', read back from the catalog.
  const deferred = (
    await psql(
      url,
      schema,
      `select indexname || ' ' || indexdef from pg_indexes i
        where schemaname = '${schema}' and tablename = 'products'
          and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
    )
  )
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ name: line.slice(0, line.indexOf(' ')), sql: line.slice(line.indexOf(' ') + 1) }));
  for (const index of deferred) await psql(url, schema, `drop index ${index.name}`);
  await psql(
    url,
    schema,
    'copy products (id, name, description, price_minor, currency, category_id, in_stock, version, created_at, updated_at) from stdin (format csv)',
    function* () {
      let chunk = '';
      for (const p of products(from, to)) {
        chunk += `${p.id},${csv(p.name)},${csv(p.description)},${p.price_minor},EUR,${p.category_id},${p.in_stock},1,${CREATED},${CREATED}\n`;
        if (chunk.length > 1 << 16) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    },
  );
  await psql(
    url,
    schema,
    `set maintenance_work_mem = '256MB'; ${deferred.map((index) => `${index.sql};`).join(' ')}`,
  );
  // Index-only scans (deep offset pages) need the visibility map; the planner needs statistics.
  await psql(url, schema, 'vacuum analyze products');
  await psql(url, schema, 'vacuum analyze product_counts');
}
