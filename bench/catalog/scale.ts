/**
 * The catalog at 1k, 100k and 1M products, on SQLite and PostgreSQL: every list page, search
 * and write, one request at a time over HTTP against the real service with the read cache off,
 * so each number is a query's cost and not a cache hit or a queue.
 *
 * One command: `node bench/catalog/scale.ts` (PostgreSQL from BENCH_DATABASE_URL or
 * TEST_DATABASE_URL). Only that full run writes bench/results/catalog-scale.md; any partial run
 * below prints its table instead.
 * Partial runs, by environment variable:
 * - BENCH_DATABASES: `sqlite` or `postgres` alone (default sqlite,postgres)
 * - BENCH_SIZES: e.g. `1000,100000` or `1000000` (default 1000,100000,1000000)
 * - BENCH_READS: only the reads whose label holds one of these comma-separated words, e.g.
 *   `search` or `offset,cursor`
 * - BENCH_SAMPLES: requests per read (default 1000); BENCH_WRITES: creates and updates (default
 *   300, 0 for none)
 * - BENCH_PORT: the first catalog's port; the others follow, operator ports 50 above (default 5103)
 * e.g. a quick look at one database: `BENCH_DATABASES=sqlite BENCH_SIZES=1000,100000 BENCH_SAMPLES=20
 * BENCH_WRITES=20 node bench/catalog/scale.ts`.
 * Each fill prints its phases with their CPU (fill.ts) and is checked (check-fill.ts) before
 * it is measured; load averages are recorded before and after each phase.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestIssuer } from '@portico/auth/testing';
import { openDatabase } from '@portico/store/sql';
import { type ProductFilter, productsTable } from '../../services/catalog/src/data/products.ts';
import type { CatalogDatabase } from '../../services/catalog/src/data/schema.ts';
import { start, stop, waitFor } from '../lib.ts';
import { checkFilled, schemaOf } from './check-fill.ts';
import { describeFill, type FillPhases, fillPostgres, fillSqlite } from './fill.ts';
import { CATEGORY_COUNT, categoryId, productId, QUERY_PREFIX, QUERY_WORD } from './products.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const tmp = await mkdtemp(join(tmpdir(), 'portico-scale-'));
const SIZES = (process.env.BENCH_SIZES ?? '1000,100000,1000000').split(',').map(Number);
// A p99 of 200 is the second slowest request: one pause of the machine's scheduler moves it.
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1000);
const WRITES = Number(process.env.BENCH_WRITES ?? 300);
const READS = process.env.BENCH_READS?.split(',');
const DATABASES = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',');
const PORT = Number(process.env.BENCH_PORT ?? 5103);
const SCHEMA = 'bench_catalog_scale';
const CATEGORY = categoryId(7);

const issuer = await createTestIssuer();
const jwks = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(issuer.jwks));
}).listen(0, '127.0.0.1');
await new Promise((r) => jwks.once('listening', r));
const token = await issuer.sign(
  { sub: 'bench', roles: ['admin'], scope: 'catalog:write' },
  { expiresIn: '2h' },
);
const admin = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const cursor = (id: string) => Buffer.from(JSON.stringify({ a: id })).toString('base64url');

/** An offset page at the same offset at every size (the last page of 1,000): flat or not, like for like. */
const SAME_OFFSET = 980;

/**
 * The reads measured at every size. Two offset pages: one at SAME_OFFSET everywhere, and the
 * deepest the size has up to the 100,000-item stop, whose offset grows with the size up to 100k.
 */
function reads(size: number): Array<[string, string]> {
  return allReads(size).filter(([label]) => !READS || READS.some((word) => label.includes(word)));
}

/** The deepest offset page there is: offset pages stop at 100,000 items. */
const DEEPEST_OFFSET = 99_980;

function allReads(size: number): Array<[string, string]> {
  const deepPage = Math.floor(Math.min(DEEPEST_OFFSET, size - 20) / 20) + 1;
  return [
    ['point read', `/api/v1/products/${productId(Math.floor(size / 2))}`],
    ['first page', '/api/v1/products?per_page=20'],
    [
      `offset page, same offset (${SAME_OFFSET.toLocaleString('en-US')})`,
      `/api/v1/products?page=${SAME_OFFSET / 20 + 1}&per_page=20`,
    ],
    [
      `deepest offset page (offset ${((deepPage - 1) * 20).toLocaleString('en-US')})`,
      `/api/v1/products?page=${deepPage}&per_page=20`,
    ],
    ['category page', `/api/v1/products?category_id=${CATEGORY}&per_page=20`],
    ['in-stock page', '/api/v1/products?in_stock=true&per_page=20'],
    ['category + in-stock page', `/api/v1/products?category_id=${CATEGORY}&in_stock=true&per_page=20`],
    [
      'cursor page (mid-table)',
      `/api/v1/products?cursor=${cursor(productId(Math.floor(size / 2)))}&per_page=20`,
    ],
    [
      'cursor page, category',
      `/api/v1/products?category_id=${CATEGORY}&cursor=${cursor(productId(Math.floor(size / 2)))}&per_page=20`,
    ],
    [`search one word (q=${QUERY_WORD})`, `/api/v1/products?q=${QUERY_WORD}`],
    [`search prefix (q=${QUERY_PREFIX})`, `/api/v1/products?q=${QUERY_PREFIX}`],
    [`search two words (q=wireless ${QUERY_WORD})`, `/api/v1/products?q=wireless+${QUERY_WORD}`],
    ['search, no match (q=zzqx)', '/api/v1/products?q=zzqx'],
    [`search + category (q=${QUERY_WORD})`, `/api/v1/products?q=${QUERY_WORD}&category_id=${CATEGORY}`],
    [
      `search, cursor page (q=${QUERY_WORD}, mid-table)`,
      `/api/v1/products?q=${QUERY_WORD}&cursor=${cursor(productId(Math.floor(size / 2)))}&per_page=20`,
    ],
  ];
}

/** The searches again, in this process: the query and the ranking alone, without HTTP and JSON. */
const SEARCHES: Array<[string, ProductFilter]> = [
  [`one word (q=${QUERY_WORD})`, { q: QUERY_WORD }],
  [`prefix (q=${QUERY_PREFIX})`, { q: QUERY_PREFIX }],
  [`two words (q=wireless ${QUERY_WORD})`, { q: `wireless ${QUERY_WORD}` }],
  ['no match (q=zzqx)', { q: 'zzqx' }],
  [`+ category (q=${QUERY_WORD})`, { q: QUERY_WORD, categoryId: CATEGORY }],
];

interface Timing {
  min: number;
  p50: number;
  p99: number;
}

function percentiles(samples: number[]): Timing {
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  return { min: samples[0]!, p50: at(0.5), p99: at(0.99) };
}

async function timed(run: () => Promise<Response>, expect: number): Promise<number> {
  const t0 = performance.now();
  const res = await run();
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== expect) throw new Error(`expected ${expect}, got ${res.status}`);
  return ms;
}

function psql(url: string, command: string): Promise<void> {
  return new Promise((ok, fail) =>
    spawn('psql', [url, '-q', '-c', command], { stdio: 'ignore' }).on('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`psql exited ${code}`)),
    ),
  );
}

interface Catalog {
  size: number;
  base: string;
  fillMs: number;
  /** The fill's phases, with the CPU each took (SQLite: this process; PostgreSQL: its backends and this process). */
  fillPhases: FillPhases;
  /** Load average (1 min) before and after the fill. */
  fillLoad: [number, number];
  samples: Map<string, number[]>;
  /** In-process search timings (see SEARCHES). */
  inProcess: Map<string, number[]>;
}

const ROUND = 10;

/**
 * One catalog per size, all running at once; the sizes take turns every ten requests, so a
 * burst of load on this shared machine falls on every size alike instead of on one of them.
 */
async function benchDatabase(
  name: string,
  connection: (size: number) => { url: string; schema: string },
  fill: (size: number) => Promise<FillPhases>,
) {
  const catalogs: Catalog[] = [];
  const children = [];
  const load = [loadavg()[0]!];
  try {
    for (const [i, size] of SIZES.entries()) {
      const port = PORT + i;
      const { url, schema } = connection(size);
      const env = {
        CATALOG_PORT: String(port),
        // Its own operator port too: the default (18002) may be another catalog's on this machine.
        CATALOG_OPERATOR_PORT: String(port + 50),
        DATABASE_URL: url,
        CATALOG_DATABASE_SCHEMA: schema,
        CATALOG_DEMO_DATA: 'false',
        CATALOG_READ_CACHE_TTL_MS: '0',
        CATALOG_GRAPHQL: 'false',
        LOG_LEVEL: 'warn',
        AUTH_JWKS_URI: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
        AUTH_ISSUER: issuer.issuer,
        AUTH_AUDIENCE: issuer.audience,
      };
      const base = `http://127.0.0.1:${port}`;
      // The first start migrates the empty catalog; it is filled while the service is down.
      const first = start(process.execPath, [join(root, 'services/catalog/src/main.ts')], env);
      await waitFor(`${base}/health`, 60_000);
      await stop(first);
      const migrated = openDatabase<CatalogDatabase>({ url, schema });
      const before = await schemaOf(migrated.db, migrated.dialect);
      await migrated.close();
      const t0 = performance.now();
      const loadBefore = loadavg()[0]!;
      const fillPhases = await fill(size);
      const fillMs = performance.now() - t0;
      const fillLoad: [number, number] = [loadBefore, loadavg()[0]!];
      // The fill's pages are written out now, not by a checkpoint in the middle of the reads.
      if (name === 'PostgreSQL') await psql(url, 'checkpoint');
      console.log(`${name}: ${fillSummary({ size, fillMs, fillPhases, fillLoad })}`);
      // The schema the migrations made and counts that count the rows (check-fill.ts checks the rest).
      const filled = openDatabase<CatalogDatabase>({ url, schema });
      await checkFilled(filled.db, filled.dialect, before);
      await filled.close();
      children.push(start(process.execPath, [join(root, 'services/catalog/src/main.ts')], env));
      await waitFor(`${base}/health`, 60_000);
      catalogs.push({ size, base, fillMs, fillPhases, fillLoad, samples: new Map(), inProcess: new Map() });
    }
    load.push(loadavg()[0]!);
    const record = (c: Catalog, label: string, ms: number) => {
      const list = c.samples.get(label) ?? [];
      list.push(ms);
      c.samples.set(label, list);
    };
    for (let round = -1; round < SAMPLES / ROUND; round++) {
      for (const c of catalogs) {
        for (const [label, path] of reads(c.size)) {
          for (let i = 0; i < ROUND; i++) {
            const ms = await timed(() => fetch(c.base + path), 200);
            if (round >= 0) record(c, label.replace(/ \(offset [\d,]+\)/, ' (offset grows to 100,000)'), ms);
          }
        }
      }
    }
    load.push(loadavg()[0]!);
    // The same searches in this process, through the service's own query code on the same
    // database, the sizes taking turns as above: what the query costs without the round trip.
    const tables = SIZES.map((size) => {
      const { url, schema } = connection(size);
      const database = openDatabase<CatalogDatabase>({ url, schema });
      return { database, table: productsTable(database.db, database.dialect) };
    });
    try {
      for (let round = -1; round < SAMPLES / 2 / ROUND; round++) {
        for (const [i, c] of catalogs.entries()) {
          for (const [label, filter] of SEARCHES) {
            for (let k = 0; k < ROUND; k++) {
              const t0 = performance.now();
              await tables[i]!.table.search(filter, 20, 0);
              const ms = performance.now() - t0;
              if (round >= 0) c.inProcess.set(label, [...(c.inProcess.get(label) ?? []), ms]);
            }
          }
        }
      }
    } finally {
      for (const { database } of tables) await database.close();
    }
    load.push(loadavg()[0]!);
    for (let round = 0; round < WRITES / ROUND; round++) {
      for (const c of catalogs) {
        for (let i = round * ROUND; i < (round + 1) * ROUND; i++) {
          const create = JSON.stringify({
            name: `bench ${i} cable`,
            description: 'written by the scale bench',
            price: 9.99,
            category_id: categoryId(i % CATEGORY_COUNT),
          });
          record(
            c,
            'create (POST)',
            await timed(
              () => fetch(`${c.base}/api/v1/products`, { method: 'POST', headers: admin, body: create }),
              201,
            ),
          );
          // Renames, moves between categories and restocks a product: every index and count changes.
          const patch = JSON.stringify({
            name: `renamed ${i} kettle`,
            in_stock: i % 2 === 0,
            category_id: categoryId((i + 1) % CATEGORY_COUNT),
          });
          const id = productId(Math.floor((c.size / WRITES) * i));
          record(
            c,
            'update: rename, move, restock (PATCH)',
            await timed(
              () =>
                fetch(`${c.base}/api/v1/products/${id}`, { method: 'PATCH', headers: admin, body: patch }),
              200,
            ),
          );
        }
      }
    }
    load.push(loadavg()[0]!);
  } finally {
    for (const child of children) await stop(child);
  }
  return { load, catalogs };
}

const fmt = (ms: number) => ms.toFixed(2);

function fillSummary(c: Pick<Catalog, 'size' | 'fillMs' | 'fillPhases' | 'fillLoad'>): string {
  return `${c.size.toLocaleString('en-US')} in ${(c.fillMs / 1000).toFixed(1)} s, ${describeFill(c.fillPhases)}, load ${c.fillLoad.map((l) => l.toFixed(1)).join(' → ')}`;
}

function table(name: string, run: { load: number[]; catalogs: Catalog[] }): string[] {
  const { catalogs } = run;
  const first = catalogs[0]!;
  const last = catalogs.at(-1)!;
  const sizes = catalogs.map((c) => c.size.toLocaleString('en-US'));
  const timing = (c: Catalog, label: string) => percentiles([...c.samples.get(label)!]);
  const lines = [
    `## ${name}`,
    '',
    `Fill: ${catalogs.map(fillSummary).join('; ')}` +
      ` (CPU: ${name.startsWith('SQLite') ? "the bench's process, which does the whole fill" : "the database's backends and the bench's process, which makes the rows; not psql's, which passes them on"}). ` +
      `Load average (1 min): ${run.load.map((l) => l.toFixed(1)).join(' → ')} (start, after filling, after reads over HTTP, after the in-process searches, after writes).`,
    '',
    `| request | ${sizes.map((s) => `p50 / p99 ms at ${s}`).join(' | ')} | p99 ${last.size.toLocaleString('en-US')} / ${first.size.toLocaleString('en-US')} |`,
    `|---|${sizes.map(() => '---:').join('|')}|---:|`,
  ];
  for (const label of first.samples.keys()) {
    const cells = catalogs.map((c) => {
      const t = timing(c, label);
      return `${fmt(t.p50)} / ${fmt(t.p99)}`;
    });
    // The deepest offset is the same from 100,000 up: the size it is compared at.
    const base = label.includes('offset grows')
      ? (catalogs.find((c) => c.size >= DEEPEST_OFFSET + 20) ?? first)
      : first;
    const ratio = timing(last, label).p99 / timing(base, label).p99;
    const against = base === first ? '' : ` (against ${base.size.toLocaleString('en-US')})`;
    lines.push(`| ${label} | ${cells.join(' | ')} | ${ratio.toFixed(2)}x${against} |`);
  }
  if (first.inProcess.size > 0) {
    lines.push(
      '',
      `Search in process (\`productsTable(…).search\`, a page of 20: the index reads, the rows and the total, no HTTP), min / p50 / p99 ms:`,
      '',
      `| search | ${sizes.join(' | ')} | p50 ${last.size.toLocaleString('en-US')} / ${first.size.toLocaleString('en-US')} |`,
      `|---|${sizes.map(() => '---:').join('|')}|---:|`,
    );
    for (const label of first.inProcess.keys()) {
      const t = catalogs.map((c) => percentiles([...c.inProcess.get(label)!]));
      const cells = t.map((x) => `${fmt(x.min)} / ${fmt(x.p50)} / ${fmt(x.p99)}`);
      lines.push(`| ${label} | ${cells.join(' | ')} | ${(t.at(-1)!.p50 / t[0]!.p50).toFixed(2)}x |`);
    }
  }
  lines.push('');
  return lines;
}

const sections: string[] = [];
const sqliteFile = (size: number) => join(tmp, `catalog-${size}.db`);
if (DATABASES.includes('sqlite'))
  sections.push(
    ...table(
      'SQLite (node:sqlite, WAL)',
      await benchDatabase(
        'SQLite',
        (size) => ({ url: `sqlite:${sqliteFile(size)}`, schema: SCHEMA }),
        async (size) => fillSqlite(sqliteFile(size), size),
      ),
    ),
  );
await rm(tmp, { recursive: true, force: true });

const postgres = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (DATABASES.includes('postgres') && postgres) {
  const schema = (size: number) => `${SCHEMA}_${size}`;
  for (const size of SIZES) await psql(postgres, `drop schema if exists ${schema(size)} cascade`);
  sections.push(
    ...table(
      'PostgreSQL',
      await benchDatabase(
        'PostgreSQL',
        (size) => ({ url: postgres, schema: schema(size) }),
        (size) => fillPostgres(postgres, schema(size), 0, size),
      ),
    ),
  );
  for (const size of SIZES) await psql(postgres, `drop schema if exists ${schema(size)} cascade`);
} else if (DATABASES.includes('postgres')) {
  console.log('skipping PostgreSQL: set TEST_DATABASE_URL or BENCH_DATABASE_URL');
}
jwks.close();

const report = [
  '# The catalog from 1,000 to 1,000,000 products',
  '',
  `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.version}, one 2-core machine ` +
    'shared with other work (the load averages below say how busy it was). `node bench/catalog/scale.ts`.',
  `Each read: ${SAMPLES} requests one at a time over HTTP after ${ROUND} warm-ups, read cache off ` +
    `(\`CATALOG_READ_CACHE_TTL_MS=0\`); writes: ${WRITES} creates and ${WRITES} updates, one at a time. ` +
    `The catalogs of every size run side by side and take turns every ${ROUND} requests, so the machine's ` +
    'load falls on all sizes alike. ' +
    `Data: ${CATEGORY_COUNT} categories, names like "acme wireless cable 4711", 80% in stock; ` +
    `"${QUERY_WORD}" is in about one name in 30, so its matches grow with the table (33 at 1k, ~33,000 at 1M).`,
  'Latency includes the HTTP round trip and JSON (about a millisecond here). Two offset pages: one at offset ' +
    `${SAME_OFFSET.toLocaleString('en-US')} at every size (like for like: is an offset page flat in the table's size?), and the ` +
    'deepest the table has up to the 100,000-item stop (980 at 1k, 99,980 at 100k and 1M): its cost grows with ' +
    'the offset, skipped inside the primary key (an index-only walk), so its ratio is taken against 100,000, the ' +
    'smallest size with the same offset. ' +
    "PostgreSQL is checkpointed after each fill, so the fill's writes do not land in the reads. " +
    'Each fill is listed with its phases and their CPU: the wall time is that CPU over the share of the two ' +
    'cores the machine gave it.',
  '',
  ...sections,
].join('\n');
console.log(report);
// A partial run (some reads, sizes, samples or writes, or one database) is printed, not recorded.
const partial = ['BENCH_DATABASES', 'BENCH_SIZES', 'BENCH_READS', 'BENCH_SAMPLES', 'BENCH_WRITES'].some(
  (name) => process.env[name] !== undefined,
);
if (!partial && postgres) await writeFile(join(root, 'bench/results/catalog-scale.md'), report);
