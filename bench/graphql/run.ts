/**
 * GraphQL servers side by side in one run: the catalog's (graphql-http's spec handler +
 * graphql-jit on the HTTP kit), Mercurius and GraphQL Yoga in their default set-up, on the
 * same schema, resolvers and data, for a nested query (20 products with their categories)
 * and a single-product query. autocannon, 50 connections, ~10 s per target on loopback,
 * each server in its own process. Writes bench/results/graphql.md.
 * Usage: node bench/graphql/run.ts   (BENCH_SECONDS to change the duration)
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { start, stop, waitFor } from '../lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = 50;

export const NESTED = '{ products(first: 20) { id name price formattedPrice inStock category { id name } } }';
export const SINGLE =
  'query One($id: ID!) { product(id: $id) { id name description price formattedPrice inStock category { id name } } }';

interface Result {
  rps: number;
  p99: number;
  p50: number;
  errors: number;
}

async function load(url: string, body: string): Promise<Result> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    connections,
  };
  await autocannon({ ...options, duration: 2 }); // warm-up: JIT, caches
  const r = await autocannon({ ...options, duration: seconds });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

async function post(url: string, query: string, variables?: object) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

const servers = [
  ['Portico catalog (graphql-http handler + graphql-jit, HTTP kit)', 'portico'],
  ['Mercurius 16 (default set-up)', 'mercurius'],
  ['GraphQL Yoga 5 (default set-up)', 'yoga'],
  ['Mercurius 16 with its opt-in graphql-jit (jit: 1), for reference', 'mercurius-jit'],
] as const;

const rows: Array<{ name: string; nested: Result; single: Result }> = [];
/** Every server must give the same answer (ids aside: each has its own copy of the demo data). */
let expected: string | undefined;
let port = 5200;
for (const [name, kind] of servers) {
  port++;
  const url = `http://127.0.0.1:${port}/graphql`;
  const child = start(process.execPath, [join(here, 'server.ts'), kind, String(port)]);
  try {
    await waitFor(`${url}?query=%7B__typename%7D`);
    const list = await post(url, NESTED);
    const products = list.data?.products as Array<{ id: string }> | undefined;
    if (products?.length !== 20) throw new Error(`${kind}: unexpected answer ${JSON.stringify(list)}`);
    const shape = JSON.stringify(list).replace(/"id":"[^"]+"/g, '"id":"…"');
    expected ??= shape;
    if (shape !== expected) throw new Error(`${kind} answers differently: ${shape}`);
    const single = JSON.stringify({
      query: SINGLE,
      variables: { id: products![3]!.id },
      operationName: 'One',
    });
    const check = await post(url, SINGLE, { id: products![3]!.id });
    if (!check.data?.product) throw new Error(`${kind}: unexpected answer ${JSON.stringify(check)}`);
    console.log(`${name}…`);
    rows.push({
      name,
      nested: await load(url, JSON.stringify({ query: NESTED })),
      single: await load(url, single),
    });
  } finally {
    await stop(child);
  }
}

const mercurius = rows.find((r) => r.name === servers[1][0])!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const line = (r: (typeof rows)[number]) =>
  `| ${r.name} | ${fmt(r.nested.rps)} | ${r.nested.p99} | ${(r.nested.rps / mercurius.nested.rps).toFixed(2)}x | ` +
  `${fmt(r.single.rps)} | ${r.single.p99} | ${(r.single.rps / mercurius.single.rps).toFixed(2)}x | ${r.nested.errors + r.single.errors} |`;

const report = `# GraphQL servers, side by side

One run of \`node bench/graphql/run.ts\` on ${new Date().toISOString().slice(0, 10)}: autocannon, ${connections} connections,
${seconds} s per target after a 2 s warm-up, loopback, each server in its own Node ${process.version} process on a
2-core machine (autocannon takes the other core). Same SDL, same resolvers, same domain services, same demo data
(SQLite in memory), same per-request context with DataLoaders.

- nested: \`${NESTED}\`
- single: \`${SINGLE.replace(/\s+/g, ' ')}\` (with \`$id\` as a variable)

| server | nested req/s | nested p99 ms | vs Mercurius | single req/s | single p99 ms | vs Mercurius | errors |
|---|---|---|---|---|---|---|---|
${rows.map(line).join('\n')}

graphql-http 1.23.1 server audit (\`node bench/graphql/audit.ts\`, same servers): Portico and Yoga pass
13/13 MUST, 23/23 SHOULD, 25/25 MAY; Mercurius passes 12/13 MUST, 16/23 SHOULD, 19/25 MAY.
`;
await writeFile(join(root, 'bench/results/graphql.md'), report);
console.log(report);
