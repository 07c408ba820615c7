/**
 * GraphQL servers side by side in one run: the catalog's (graphql-http's spec handler +
 * graphql-jit on the HTTP kit), Mercurius and GraphQL Yoga in their default set-up (and
 * Mercurius with its opt-in jit, for reference), on the same schema, resolvers and data,
 * for a nested query (20 products with their categories) and a single-product query.
 * autocannon, 50 connections, loopback, each server in its own process.
 *
 * The machine is shared and small, so load is interleaved: every server is up for the
 * whole run and gets its ~10 s per query as rounds of 2 s taken in turn, so a burst of
 * outside load lands on all of them alike. Writes bench/results/graphql.md.
 * Usage: node bench/graphql/run.ts   (BENCH_ROUNDS × BENCH_ROUND_SECONDS, default 5 × 2 s)
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { start, stop, waitFor } from '../lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
const connections = 50;

export const NESTED = '{ products(first: 20) { id name price formattedPrice inStock category { id name } } }';
export const SINGLE =
  'query One($id: ID!) { product(id: $id) { id name description price formattedPrice inStock category { id name } } }';

interface Sample {
  requests: number;
  seconds: number;
  p99: number[];
  errors: number;
}

const servers = process.env.BENCH_SERVERS
  ? (JSON.parse(process.env.BENCH_SERVERS) as Array<[string, string]>)
  : ([
      ['Portico catalog (graphql-http handler + graphql-jit, HTTP kit)', 'portico'],
      ['Mercurius 16 (default set-up)', 'mercurius'],
      ['GraphQL Yoga 5 (default set-up)', 'yoga'],
      ['Mercurius 16 with its opt-in graphql-jit (jit: 1), for reference', 'mercurius-jit'],
    ] as Array<[string, string]>);
const queries = ['nested', 'single'] as const;

async function post(url: string, query: string, variables?: object) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

async function hit(url: string, body: string, duration: number) {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    connections,
    duration,
  });
}

const targets: Array<{ name: string; url: string; bodies: Record<(typeof queries)[number], string> }> = [];
const children = servers.map(([, kind], i) =>
  start(process.execPath, [join(here, 'server.ts'), kind, String(5201 + i)]),
);
try {
  /** Every server must give the same answer (ids aside: each has its own copy of the demo data). */
  let expected: string | undefined;
  for (const [i, [name, kind]] of servers.entries()) {
    const url = `http://127.0.0.1:${5201 + i}/graphql`;
    await waitFor(`${url}?query=%7B__typename%7D`);
    const list = await post(url, NESTED);
    const products = list.data?.products as Array<{ id: string }> | undefined;
    if (products?.length !== 20) throw new Error(`${kind}: unexpected answer ${JSON.stringify(list)}`);
    const shape = JSON.stringify(list).replace(/"id":"[^"]+"/g, '"id":"…"');
    expected ??= shape;
    if (shape !== expected) throw new Error(`${kind} answers differently: ${shape}`);
    const id = products![3]!.id;
    if (!(await post(url, SINGLE, { id })).data?.product) throw new Error(`${kind}: no product ${id}`);
    targets.push({
      name,
      url,
      bodies: {
        nested: JSON.stringify({ query: NESTED }),
        single: JSON.stringify({ query: SINGLE, variables: { id }, operationName: 'One' }),
      },
    });
  }

  for (const target of targets) for (const q of queries) await hit(target.url, target.bodies[q], 2); // warm-up

  const samples = new Map<string, Sample>();
  for (let round = 1; round <= rounds; round++) {
    console.log(`round ${round}/${rounds}`);
    for (const q of queries) {
      for (const target of targets) {
        const r = await hit(target.url, target.bodies[q], roundSeconds);
        const key = `${target.name}\n${q}`;
        const sample = samples.get(key) ?? { requests: 0, seconds: 0, p99: [], errors: 0 };
        sample.requests += r.requests.total;
        sample.seconds += r.duration;
        sample.p99.push(r.latency.p99);
        sample.errors += r.errors + r.timeouts + r.non2xx;
        samples.set(key, sample);
      }
    }
  }

  const stat = (name: string, q: string) => {
    const s = samples.get(`${name}\n${q}`)!;
    const p99 = [...s.p99].sort((a, b) => a - b)[Math.floor(s.p99.length / 2)]!;
    return { rps: s.requests / s.seconds, p99, errors: s.errors };
  };
  const base = servers[1]![0];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const cells = (name: string, q: string) => {
    const r = stat(name, q);
    return `${fmt(r.rps)} | ${r.p99} | ${(r.rps / stat(base, q).rps).toFixed(2)}x`;
  };
  const lines = targets.map(
    ({ name }) =>
      `| ${name} | ${cells(name, 'nested')} | ${cells(name, 'single')} | ${stat(name, 'nested').errors + stat(name, 'single').errors} |`,
  );

  const report = `# GraphQL servers, side by side

One run of \`node bench/graphql/run.ts\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, a shared
2-core machine: autocannon (in the runner's process), ${connections} connections, loopback, every server in its own
process. Each server gets ${rounds * roundSeconds} s per query as ${rounds} rounds of ${roundSeconds} s, interleaved with the
others after a 2 s warm-up, so outside load hits all alike. req/s = requests / seconds over all rounds; p99 = the
median of the rounds' p99 (ms). Same SDL, resolvers, domain services, demo data (SQLite in memory) and per-request
context with DataLoaders everywhere; every server's answer is checked to be the same before the run.

- nested: \`${NESTED}\`
- single: \`${SINGLE}\` (\`$id\` as a variable)

| server | nested req/s | nested p99 ms | nested vs Mercurius | single req/s | single p99 ms | single vs Mercurius | errors |
|---|---|---|---|---|---|---|---|
${lines.join('\n')}

graphql-http 1.23.1 server audit (\`node bench/graphql/audit.ts\`, same servers): Portico and Yoga pass
13/13 MUST, 23/23 SHOULD, 25/25 MAY; Mercurius passes 12/13 MUST, 16/23 SHOULD, 19/25 MAY.

Reading: the target is Mercurius in its default set-up. Mercurius with its opt-in graphql-jit (not its default;
the same audit failures) is shown for reference: it executes the same way ours does, so what separates the two is
per-request HTTP work, most of it the catalog's HTTP kit (request ids, Prometheus metrics, problem+json); the same
transport on a bare Fastify is \`portico-bare\` in server.ts. On this shared machine, absolute numbers vary by ±30%
between runs; the interleaving keeps the ratios comparable.
`;
  await writeFile(join(root, 'bench/results/graphql.md'), report);
  console.log(report);
} finally {
  await Promise.all(children.map(stop));
}
