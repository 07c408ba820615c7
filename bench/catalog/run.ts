/**
 * Catalog REST vs. the seed's Flask example, side by side in one run:
 * GET /api/v1/products/{id} and a list page (page 2 of 20), on our catalog with SQLite
 * and with PostgreSQL under it, and on the seed's in-memory Flask app.
 * Usage: node bench/catalog/run.ts   (needs Debian's python3-flask and wrk)
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Load, row, start, stop, TABLE_HEAD, waitFor, wrk } from '../lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
// The seed document (the project's functional spec, with its Flask example) is not part of the
// repository: name the folder that holds it.
const seedDir = process.env.PORTICO_SEED_DIR ?? '';
if (!seedDir) {
  throw new Error(
    'set PORTICO_SEED_DIR to the folder holding the seed document (its Flask example is the baseline)',
  );
}
const tmp = await mkdtemp(join(tmpdir(), 'portico-bench-'));

async function seedApp(): Promise<string> {
  const file = (await readdir(seedDir)).find((f) => f.endsWith('.txt'));
  if (!file) throw new Error(`no seed document in ${seedDir}`);
  const text = await readFile(join(seedDir, file), 'utf8');
  const block = /```python\n([\s\S]*?)```/.exec(text)?.[1];
  if (!block?.includes("@app.route('/api/v1/products'"))
    throw new Error('the seed REST example was not found');
  const path = join(tmp, 'seed_rest.py');
  await writeFile(path, block);
  return path;
}

async function firstId(base: string): Promise<string> {
  const body = (await (await fetch(`${base}/api/v1/products?per_page=1`)).json()) as {
    data: Array<{ id: string }>;
  };
  return body.data[0]!.id;
}

const results: Array<[string, Load, Load]> = [];

// The seed, on Flask's threaded server with Debian's python3-flask.
{
  const idFile = join(tmp, 'seed-id');
  const flask = start('/usr/bin/python3', [join(here, 'seed_runner.py'), await seedApp(), '5002', idFile]);
  try {
    await waitFor('http://127.0.0.1:5002/api/v1/products');
    const id = (await readFile(idFile, 'utf8')).trim();
    results.push([
      'seed Flask (in-memory dict)',
      await wrk(`http://127.0.0.1:5002/api/v1/products/${id}`),
      await wrk('http://127.0.0.1:5002/api/v1/products?page=2&per_page=20'),
    ]);
  } finally {
    await stop(flask);
  }
}

const postgres = process.env.TEST_DATABASE_URL ?? process.env.BENCH_DATABASE_URL;
const databases: Array<[string, string | undefined, string]> = [
  ['Portico catalog, SQLite (node:sqlite, WAL)', `sqlite:${join(tmp, 'catalog.db')}`, '1000'],
  ['Portico catalog, PostgreSQL', postgres, '1000'],
  ['Portico catalog, SQLite, read cache off (a query per request)', `sqlite:${join(tmp, 'catalog.db')}`, '0'],
  ['Portico catalog, PostgreSQL, read cache off (a query per request)', postgres, '0'],
];
for (const [name, url, cacheTtl] of databases) {
  if (!url) {
    console.log(`skipping "${name}": set TEST_DATABASE_URL`);
    continue;
  }
  const catalog = start(process.execPath, [join(root, 'services/catalog/src/main.ts')], {
    CATALOG_PORT: '5102',
    DATABASE_URL: url,
    CATALOG_DATABASE_SCHEMA: 'bench_catalog',
    LOG_LEVEL: 'warn',
    CATALOG_READ_CACHE_TTL_MS: cacheTtl,
  });
  try {
    await waitFor('http://127.0.0.1:5102/health');
    const id = await firstId('http://127.0.0.1:5102');
    results.push([
      name,
      await wrk(`http://127.0.0.1:5102/api/v1/products/${id}`),
      await wrk('http://127.0.0.1:5102/api/v1/products?page=2&per_page=20'),
    ]);
  } finally {
    await stop(catalog);
  }
}
await rm(tmp, { recursive: true, force: true });

const [seed] = results;
const lines = [
  `# Catalog REST vs. the seed's Flask example`,
  '',
  `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.version}; wrk -t1 -c50, ` +
    `${process.env.BENCH_SECONDS ?? 10} s per target after a 2 s warm-up, all on one 2-core machine (the load generator shares it).`,
  "Ours logs at warn; the seed runs on Flask's threaded development server (the seed's own `app.run`), request log off.",
  'The read cache (1 s TTL, cleared by every local write) is the default; the rows with it off show a query per request.',
  '',
  '## GET /api/v1/products/{id}',
  '',
  TABLE_HEAD,
  ...results.map(([name, one]) => row(name, one, seed?.[1])),
  '',
  '## GET /api/v1/products?page=2&per_page=20',
  '',
  TABLE_HEAD,
  ...results.map(([name, , list]) => row(name, list, seed?.[2])),
  '',
];
const report = lines.join('\n');
console.log(report);
await writeFile(join(root, 'bench/results/catalog.md'), report);
