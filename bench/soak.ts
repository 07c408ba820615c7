/**
 * Soak: the catalog, orders and the gateway as separate processes on free 127.0.0.1 ports,
 * mixed traffic at a fixed rate for a fixed time, RSS of every process sampled, so a leak
 * shows as a slope. Bounded in time and rate; traffic goes to 127.0.0.1 only.
 *
 *   npm run soak                                  # 5 minutes at 100 requests/s
 *   npm run soak -- --duration 1800 --rate 300    # 30 minutes at 300 requests/s
 *
 * Writes bench/results/soak.json (every sample) and bench/results/soak.md (summary).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { start, stop, waitFor } from './lib.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    rate: { type: 'string', default: '100' },
    sample: { type: 'string', default: '10' },
  },
});
const duration = Math.min(3600, Math.max(10, Number(values.duration)));
const rate = Math.min(1000, Math.max(1, Number(values.rate)));
const sampleEvery = Math.max(1, Number(values.sample));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round((Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024) * 10) / 10;
}

const dir = await mkdtemp(join(tmpdir(), 'portico-soak-'));
const [catalogPort, ordersPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
const catalogUrl = `http://127.0.0.1:${catalogPort}`;
const ordersUrl = `http://127.0.0.1:${ordersPort}`;
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
const gatewayFile = join(dir, 'gateway.json');
writeFileSync(
  gatewayFile,
  JSON.stringify({
    upstreams: { catalog: { instances: [catalogUrl] }, orders: { instances: [ordersUrl] } },
    routes: [
      {
        name: 'products',
        path: '/api/v1/products',
        upstream: 'catalog',
        auth: { default: 'public' },
        cache: { ttl: '2s' },
        rateLimit: { limit: 1_000_000, window: '1m' },
      },
      { name: 'categories', path: '/api/v1/categories', upstream: 'catalog', auth: { default: 'public' } },
      { name: 'cart', path: '/api/v1/cart', upstream: 'orders', auth: { default: 'public' } },
    ],
  }),
);
const base = { LOG_LEVEL: 'warn' };
const operatorPorts = { catalog: await freePort(), orders: await freePort(), gateway: await freePort() };
const processes = {
  catalog: start(process.execPath, ['services/catalog/src/main.ts'], {
    ...base,
    CATALOG_PORT: String(catalogPort),
    CATALOG_OPERATOR_PORT: String(operatorPorts.catalog),
    DATABASE_URL: `sqlite:${dir}/catalog.db`,
  }),
  orders: start(process.execPath, ['services/orders/src/main.ts'], {
    ...base,
    ORDERS_PORT: String(ordersPort),
    ORDERS_OPERATOR_PORT: String(operatorPorts.orders),
    DATABASE_URL: `sqlite:${dir}/orders.db`,
    CATALOG_URL: catalogUrl,
  }),
  gateway: start(process.execPath, ['services/gateway/src/main.ts'], {
    ...base,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_OPERATOR_PORT: String(operatorPorts.gateway),
    GATEWAY_FILE: gatewayFile,
    GATEWAY_WATCH: 'false',
  }),
};
try {
  await Promise.all([catalogUrl, ordersUrl, gatewayUrl].map((url) => waitFor(`${url}/health`, 60_000)));
  const list = (await (await fetch(`${gatewayUrl}/api/v1/products?limit=50`)).json()) as {
    data: Array<{ id: string }>;
  };
  const ids = list.data.map((p) => p.id);

  // The mix: list pages, one product, categories, a 404, a malformed limit, an anonymous cart (401).
  let n = 0;
  const next = (): [string, RequestInit] => {
    const i = n++;
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
        return [`/api/v1/products?limit=20&page=${(i % 5) + 1}`, {}];
      case 3:
      case 4:
      case 5:
        return [`/api/v1/products/${ids[i % ids.length]}`, {}];
      case 6:
        return ['/api/v1/categories', {}];
      case 7:
        return ['/api/v1/products/01900000-0000-7000-8000-0000000000ff', {}];
      case 8:
        return ['/api/v1/products?limit=notanumber', {}];
      default:
        return ['/api/v1/cart', {}];
    }
  };

  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let inFlight = 0;
  let skipped = 0;
  const failures = new Map<string, number>();
  const samples: Array<{ s: number; rss: Record<string, number>; heap: Record<string, number> }> = [];
  // RSS keeps a process's high-water mark; the V8 heap in use (from the operator's /metrics)
  // is what grows with a leak.
  const heapMiB = async (name: keyof typeof operatorPorts): Promise<number> => {
    try {
      const res = await fetch(`http://127.0.0.1:${operatorPorts[name]}/metrics`, {
        signal: AbortSignal.timeout(2000),
      });
      const used = /^nodejs_heap_size_used_bytes(?:{[^}]*})? (\S+)$/m.exec(await res.text())?.[1];
      return used ? Math.round((Number(used) / 1024 / 1024) * 10) / 10 : Number.NaN;
    } catch {
      return Number.NaN;
    }
  };
  const sample = async (s: number) => {
    const rss: Record<string, number> = {};
    const heap: Record<string, number> = {};
    for (const [name, child] of Object.entries(processes)) {
      rss[name] = rssMiB(child.pid!);
      heap[name] = await heapMiB(name as keyof typeof operatorPorts);
    }
    samples.push({ s, rss, heap });
  };
  await sample(0);
  const t0 = Date.now();
  const end = t0 + duration * 1000;
  // Open loop: every tick sends what the schedule (`rate` per second since the start) says is due,
  // so a late timer catches up instead of lowering the rate; past 200 in flight a due request is
  // skipped and counted.
  let due = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = Date.now();
      if (now >= end) {
        clearInterval(tick);
        resolve();
        return;
      }
      const target = Math.floor(((now - t0) * rate) / 1000);
      for (; due < target; due++) {
        if (inFlight >= 200) {
          skipped++;
          continue;
        }
        const [path, init] = next();
        inFlight++;
        const started = performance.now();
        fetch(`${gatewayUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) })
          .then(async (res) => {
            const body = await res.text();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status >= 500) {
              const code = /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? 'no code';
              const key = `${res.status} ${code}`;
              failures.set(key, (failures.get(key) ?? 0) + 1);
            }
          })
          .catch(() => statuses.set(0, (statuses.get(0) ?? 0) + 1))
          .finally(() => {
            inFlight--;
            latencies.push(performance.now() - started);
          });
      }
    }, 10);
    const sampler = setInterval(() => {
      if (Date.now() >= end) clearInterval(sampler);
      else void sample(Math.round((Date.now() - t0) / 1000));
    }, sampleEvery * 1000);
  });
  await sample(Math.round((Date.now() - t0) / 1000));

  latencies.sort((a, b) => a - b);
  const pick = (q: number) => Math.round(latencies[Math.floor(q * (latencies.length - 1))]! * 10) / 10;
  const first = samples[0]!.rss;
  const last = samples.at(-1)!.rss;
  const result = {
    at: new Date().toISOString(),
    duration_s: duration,
    rate_per_s: rate,
    requests: latencies.length,
    skipped,
    statuses: Object.fromEntries(statuses),
    server_errors: Object.fromEntries(failures),
    latency_ms: { p50: pick(0.5), p99: pick(0.99), max: pick(1) },
    rss_mib: Object.fromEntries(
      Object.keys(processes).map((name) => [name, { start: first[name], end: last[name] }]),
    ),
    heap_mib: Object.fromEntries(
      Object.keys(processes).map((name) => [
        name,
        { start: samples[0]!.heap[name], end: samples.at(-1)!.heap[name] },
      ]),
    ),
    samples,
  };
  writeFileSync('bench/results/soak.json', `${JSON.stringify(result, null, 1)}\n`);
  const rows = Object.keys(processes)
    .map(
      (name) =>
        `| ${name} | ${first[name]} | ${last[name]} | ${Math.max(...samples.map((s) => s.rss[name]!))} | ${samples[0]!.heap[name]} | ${samples.at(-1)!.heap[name]} | ${Math.max(...samples.map((s) => s.heap[name]!).filter((h) => !Number.isNaN(h)))} |`,
    )
    .join('\n');
  writeFileSync(
    'bench/results/soak.md',
    `# Soak

\`npm run soak -- --duration ${duration} --rate ${rate}\` on ${result.at.slice(0, 10)}: catalog, orders and the
gateway as separate processes (SQLite), mixed traffic through the gateway (product lists and
pages, single products, categories, a 404, a malformed limit, an anonymous cart 401).
For 30 minutes: \`npm run soak -- --duration 1800\` (add \`--rate 300\` for the issue's rate).

- ${result.requests} requests (${Math.round(result.requests / duration)}/s), ${skipped} skipped (200 in flight); statuses ${JSON.stringify(result.statuses)}
- 5xx by code: ${JSON.stringify(result.server_errors)}
- latency p50 ${result.latency_ms.p50} ms, p99 ${result.latency_ms.p99} ms, max ${result.latency_ms.max} ms

| process | RSS at start (MiB) | RSS at end (MiB) | RSS highest (MiB) | heap used at start (MiB) | heap used at end (MiB) | heap used highest (MiB) |
| --- | --- | --- | --- | --- | --- | --- |
${rows}

Every sample (every ${sampleEvery} s) is in \`soak.json\`.
`,
  );
  console.log(JSON.stringify({ ...result, samples: undefined }, null, 1));
} finally {
  await Promise.all(Object.values(processes).map((child) => stop(child)));
  await rm(dir, { recursive: true, force: true });
}
