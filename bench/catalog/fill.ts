/**
 * Bulk loads for the scale bench, into a catalog whose schema the service has already
 * migrated: SQLite through node:sqlite (multi-row INSERTs in one transaction), PostgreSQL
 * through psql's COPY, several streams at once. Both drop what every write maintains row by
 * row (secondary indexes, the full-text index, the count triggers), load the rows, then build
 * each of them once from the rows, as the migrations' backfills do: sorting a million entries
 * once is far cheaper than keeping them in order through a million inserts. The schema each
 * ends with is the one the migrations made, read back from the database's own catalog.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { CATEGORY_COUNT, categoryId, products } from './products.ts';

const ROWS_PER_INSERT = 500;
export const CREATED = '2026-01-01T00:00:00.000Z';
/** Concurrent COPY streams and index builds on PostgreSQL: its backends do the work in parallel. */
const POSTGRES_STREAMS = 4;

const COUNTS_BACKFILL = `insert into product_counts (category_id, in_stock, n)
  select category_id, in_stock, count(*) from products group by category_id, in_stock`;

/**
 * Each phase of a fill, in order: its wall-clock seconds, the CPU seconds it took (left out
 * when PostgreSQL's backends may not report theirs) and the load average (1 min) after it.
 */
export type FillPhases = Array<{ phase: string; seconds: number; cpuSeconds?: number; loadAfter: number }>;

/** "40.1 s CPU (rows 12.0 s / 26.0 s CPU / load 3.1 after, …)" */
export function describeFill(phases: FillPhases): string {
  const known = phases.every((p) => p.cpuSeconds !== undefined);
  const cpu = phases.reduce((sum, p) => sum + (p.cpuSeconds ?? 0), 0);
  const each = phases.map(
    (p) =>
      `${p.phase} ${p.seconds.toFixed(1)} s / ${p.cpuSeconds?.toFixed(1) ?? '?'} s CPU / load ${p.loadAfter.toFixed(1)} after`,
  );
  return `${known ? cpu.toFixed(1) : '?'} s CPU (${each.join(', ')})`;
}

/**
 * Laps of a fill. SQLite's CPU is this process's; PostgreSQL's is its backends' (each psql
 * session of the phase adds what its backend used to `cpu`, when it may read it) and this
 * process's, so a phase's cost can be told apart from the machine's load.
 */
function phaseTimer(): {
  phases: FillPhases;
  cpu: { seconds: number; known: boolean };
  lap(phase: string): void;
} {
  const phases: FillPhases = [];
  const cpu = { seconds: 0, known: true };
  let t = performance.now();
  let ownCpu = process.cpuUsage();
  return {
    phases,
    cpu,
    lap(phase) {
      const now = performance.now();
      const own = process.cpuUsage(ownCpu);
      phases.push({
        phase,
        seconds: (now - t) / 1000,
        cpuSeconds: cpu.known ? cpu.seconds + (own.user + own.system) / 1e6 : undefined,
        loadAfter: loadavg()[0]!,
      });
      t = now;
      ownCpu = process.cpuUsage();
      cpu.seconds = 0;
    },
  };
}

interface SchemaObject {
  name: string;
  sql: string;
}

/** Fills an empty catalog. */
export function fillSqlite(path: string, size: number): FillPhases {
  const timer = phaseTimer();
  const db = new DatabaseSync(path);
  const { count } = db.prepare('select count(*) as count from products').get() as { count: number };
  if (count !== 0) throw new Error(`${path} already holds ${count} products`);
  // Nobody else has the file while it fills: no WAL (every page would be written twice, to the
  // log then to the file), the rollback journal in memory (pages added at the end, which is
  // nearly all of them, are not journaled), and the sorter of CREATE INDEX on a second thread.
  db.exec('PRAGMA main.journal_mode = DELETE');
  db.exec('PRAGMA main.locking_mode = EXCLUSIVE');
  db.exec('PRAGMA main.journal_mode = MEMORY');
  db.exec('PRAGMA synchronous = OFF');
  db.exec('PRAGMA cache_size = -262144');
  db.exec('PRAGMA temp_store = MEMORY');
  db.exec('PRAGMA threads = 2');
  db.exec('BEGIN');
  // All in the fill's transaction: a failed fill leaves the schema as it was.
  const deferred = db
    .prepare(
      `select type, name, sql from sqlite_master where tbl_name = 'products' and sql is not null
        and (type = 'index' or (type = 'trigger' and (name like 'products_search_%' or name like 'products_count_%')))`,
    )
    .all() as unknown as Array<SchemaObject & { type: string }>;
  for (const object of deferred) db.exec(`drop ${object.type} ${object.name}`);
  const category = db.prepare(
    'insert into categories (id, name, description, created_at, updated_at) values (?, ?, ?, ?, ?)',
  );
  for (let c = 0; c < CATEGORY_COUNT; c++) category.run(categoryId(c), `Category ${c}`, '', CREATED, CREATED);
  const columns =
    '(id, name, description, price_minor, currency, category_id, in_stock, version, created_at, updated_at)';
  const tuple = `(?, ?, ?, ?, 'EUR', ?, ?, 1, '${CREATED}', '${CREATED}')`;
  const full = db.prepare(
    `insert into products ${columns} values ${Array(ROWS_PER_INSERT).fill(tuple).join(',')}`,
  );
  let batch: Array<string | number> = [];
  for (const p of products(0, size)) {
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
  timer.lap('rows');
  for (const object of deferred) if (object.type === 'index') db.exec(object.sql);
  timer.lap('indexes');
  // After the indexes: the group by reads the (category, stock, id) index, not the table.
  db.exec('delete from product_counts');
  db.exec(COUNTS_BACKFILL);
  for (const object of deferred) if (object.type === 'trigger') db.exec(object.sql);
  timer.lap('counts');
  // One 'rebuild' from the rows, with FTS5's default 1 MiB buffer of pending entries. A larger
  // buffer (256 MiB was tried) halves the build's CPU but leaves a few huge segments on FTS5's
  // lowest levels: within a few hundred writes a level reaches its crisis-merge limit and one
  // write merges the whole index at once (a PATCH took 29-37 s at 1M products, also after an
  // 'optimize'). Built from 1 MiB segments the levels are what writes would have grown, and
  // merges stay small and incremental (300 PATCHes at 1M products: none over 0.4 s).
  db.exec(`insert into products_search (products_search) values ('rebuild')`);
  db.exec(`insert into products_name_search (products_name_search) values ('rebuild')`);
  db.exec('COMMIT');
  timer.lap('search index');
  // The merges writes would have made as they went: a level with `automerge` (4) segments or
  // more is merged into the next. A rebuild leaves such levels behind, and left alone the
  // first few hundred writes after the fill pay for them (measured at 1M: of 400 creates right
  // after the fill, 44 took over 5 ms, the slowest 825 ms, mean 6.2 ms; 1.4 ms for the next
  // 400). 'merge' with a positive count merges only such levels; it did nothing once the total
  // of changes moves by less than 2.
  const changes = db.prepare('select total_changes() as n');
  for (const index of ['products_search', 'products_name_search'])
    for (;;) {
      const before = (changes.get() as { n: number }).n;
      db.exec(`insert into ${index} (${index}, rank) values ('merge', 100000)`);
      if ((changes.get() as { n: number }).n - before < 2) break;
    }
  timer.lap('search merges');
  // Statistics from a sample of each index (as `PRAGMA optimize` takes them), not every entry.
  db.exec('PRAGMA analysis_limit = 1000');
  db.exec('ANALYZE');
  db.exec('PRAGMA main.locking_mode = NORMAL');
  db.exec('PRAGMA main.journal_mode = WAL');
  db.close();
  timer.lap('analyze');
  return timer.phases;
}

/** The backend's CPU seconds so far (Linux: utime + stime in /proc, at 100 ticks a second). */
const BACKEND_CPU = `select 'cpu ' || pg_read_file('/proc/self/stat', 0, 1000, true)`;

interface Session {
  url: string;
  schema: string;
  /** Where each session adds its backend's CPU seconds, when it may read them (superuser or pg_read_server_files). */
  cpu?: { seconds: number };
}

/** Runs `command` in psql; its output (unaligned, tuples only) is returned. */
function psql(session: Session, command: string, input?: () => Iterable<string>): Promise<string> {
  const { url, schema, cpu } = session;
  return new Promise((resolve, reject) => {
    const child = spawn(
      'psql',
      [
        url,
        ...['-v', 'ON_ERROR_STOP=1', '-q', '-At', '-c', `set search_path = ${schema}`, '-c', command],
        ...(cpu ? ['-c', BACKEND_CPU] : []),
      ],
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
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`psql: ${stderr}`));
      if (!cpu) return resolve(stdout);
      const at = stdout.lastIndexOf('cpu ');
      // Fields 14 and 15 of /proc/<pid>/stat, after the command in parentheses.
      const fields = stdout.slice(stdout.indexOf(')', at) + 2).split(' ');
      cpu.seconds += (Number(fields[11]) + Number(fields[12])) / 100;
      resolve(stdout.slice(0, at));
    });
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

export async function fillPostgres(
  url: string,
  schema: string,
  from: number,
  to: number,
): Promise<FillPhases> {
  const timer = phaseTimer();
  // The backends' CPU is read from /proc, which only a superuser or pg_read_server_files may.
  const session: Session = { url, schema };
  if ((await psql(session, `select pg_has_role('pg_read_server_files', 'member')`)).trim() === 't')
    session.cpu = timer.cpu;
  else timer.cpu.known = false;
  if (from === 0) {
    const values = Array.from(
      { length: CATEGORY_COUNT },
      (_, c) => `('${categoryId(c)}', 'Category ${c}', '', '${CREATED}', '${CREATED}')`,
    );
    await psql(
      session,
      `insert into categories (id, name, description, created_at, updated_at) values ${values.join(',')}`,
    );
  }
  // What is dropped and rebuilt: the secondary indexes (not the primary key's) and the count
  // triggers, as the migrations defined them (pg_get_indexdef / pg_get_triggerdef).
  const deferred = (
    await psql(
      session,
      `select 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index
        where indrelid = 'products'::regclass and not indisprimary
       union all
       select 'trigger', tgname, pg_get_triggerdef(oid) from pg_trigger
        where tgrelid = 'products'::regclass and not tgisinternal`,
    )
  )
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [type, name, sql] = line.split('|') as [string, string, string];
      return { type, name, sql };
    });
  const indexes = deferred.filter((o) => o.type === 'index');
  const triggers = deferred.filter((o) => o.type === 'trigger');
  await psql(
    session,
    [
      ...indexes.map((o) => `drop index ${o.name};`),
      ...triggers.map((o) => `drop trigger ${o.name} on products;`),
    ].join(' '),
  );
  // Each stream's backend parses its rows and computes their search vectors on its own core.
  const streams = Array.from({ length: POSTGRES_STREAMS }, (_, s) => {
    const start = from + Math.floor(((to - from) * s) / POSTGRES_STREAMS);
    const end = from + Math.floor(((to - from) * (s + 1)) / POSTGRES_STREAMS);
    return psql(
      session,
      'copy products (id, name, description, price_minor, currency, category_id, in_stock, version, created_at, updated_at) from stdin (format csv)',
      function* () {
        let chunk = '';
        for (const p of products(start, end)) {
          chunk += `${p.id},${csv(p.name)},${csv(p.description)},${p.price_minor},EUR,${p.category_id},${p.in_stock},1,${CREATED},${CREATED}\n`;
          if (chunk.length > 1 << 16) {
            yield chunk;
            chunk = '';
          }
        }
        if (chunk) yield chunk;
      },
    );
  });
  await Promise.all(streams);
  timer.lap('rows');
  // CREATE INDEX takes a lock that lets other CREATE INDEX run: the indexes build side by side.
  await Promise.all(indexes.map((o) => psql(session, `set maintenance_work_mem = '1GB'; ${o.sql}`)));
  timer.lap('indexes');
  await psql(
    session,
    `begin; delete from product_counts; ${COUNTS_BACKFILL}; ${triggers.map((o) => `${o.sql};`).join(' ')} commit;`,
  );
  timer.lap('counts');
  // Index-only scans (deep offset pages) need the visibility map; the planner needs statistics.
  await psql(session, 'vacuum analyze products');
  await psql(session, 'vacuum analyze product_counts');
  timer.lap('vacuum analyze');
  return timer.phases;
}
