/**
 * What edge validation (a route's `validate`) costs: one gateway process, the same upstream
 * behind routes with and without it, driven by autocannon (50 connections, loopback). Rounds
 * are interleaved and the median round by requests/s is kept; the gateway's CPU time per request
 * (user + system, from /proc) is the steadier figure on a shared machine.
 * Then the policy alone, in process, with the document at hand: what validation itself costs
 * once the load generator and the upstream are out of the picture.
 * Writes bench/results/gateway-validate.md.
 *
 *   node bench/gateway/validate.ts     (BENCH_SECONDS=4 per round, BENCH_ROUNDS=5, BENCH_CONNECTIONS=50)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteDef } from '@portico/gateway/config';
import { validator } from '@portico/gateway/validate';
import autocannon from 'autocannon';

const root = new URL('../../', import.meta.url).pathname;
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const loadBefore = loadavg()[0]!.toFixed(2);
const port = Number(process.env.BENCH_PORT ?? 18121);

const product = { $ref: '#/components/schemas/Product' };
const document = {
  openapi: '3.1.0',
  info: { title: 'bench', version: '1' },
  paths: {
    '/products': {
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: product } } },
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: product } } } },
      },
    },
    '/products/{id}': {
      get: {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
          { name: 'currency', in: 'query', schema: { type: 'string', enum: ['USD', 'EUR'] } },
        ],
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: product } } } },
      },
    },
  },
  components: {
    schemas: {
      Product: {
        type: 'object',
        required: ['name', 'price', 'currency'],
        additionalProperties: false,
        properties: {
          id: { type: 'integer' },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          price: { type: 'number', minimum: 0 },
          currency: { type: 'string', enum: ['USD', 'EUR'] },
          category_id: { type: 'integer' },
          in_stock: { type: 'boolean' },
        },
      },
    },
  },
};
const body = JSON.stringify({
  id: 42,
  name: 'Wireless Mouse',
  price: 29.99,
  currency: 'USD',
  category_id: 7,
  in_stock: true,
});
const spec = JSON.stringify(document);
const upstream = createServer((req, res) => {
  const text = req.url === '/openapi.json' ? spec : body;
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const route = (name: string, extra: string) => `  - name: ${name}
    path: /${name}
    upstream: bench
    auth: { default: public }
    transform: { rewrite: { pattern: "^/${name}", replacement: "" } }
${extra}`;
const dir = mkdtempSync(join(tmpdir(), 'portico-bench-validate-'));
const file = join(dir, 'gateway.yaml');
writeFileSync(
  file,
  `upstreams:
  bench: { instances: [${upstreamUrl}] }
routes:
${route('plain', '')}
${route('checked', '    validate: true\n')}
${route('audited', '    validate: { responses: log }\n')}`,
);
const gateway = spawn(process.execPath, [join(root, 'services/gateway/src/main.ts')], {
  env: {
    ...process.env,
    GATEWAY_PORT: String(port),
    GATEWAY_OPERATOR_PORT: String(port + 1),
    GATEWAY_FILE: file,
    GATEWAY_WATCH: 'false',
    LOG_LEVEL: 'warn',
    REDIS_URL: '',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Scenario {
  name: string;
  path: string;
  post?: boolean;
}
const scenarios: Scenario[] = [
  { name: 'GET, no validation', path: '/plain/products/42?currency=USD' },
  { name: 'GET, parameters validated', path: '/checked/products/42?currency=USD' },
  { name: 'GET, parameters + answer validated (log)', path: '/audited/products/42?currency=USD' },
  { name: 'POST JSON, no validation', path: '/plain/products', post: true },
  { name: 'POST JSON, body validated', path: '/checked/products', post: true },
];

async function load(sc: Scenario, duration: number) {
  const cpu0 = cpuSeconds(gateway.pid!);
  const result = await autocannon({
    url: `${base}${sc.path}`,
    connections,
    duration,
    ...(sc.post
      ? { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body }
      : { method: 'GET' as const }),
  });
  const cpu = cpuSeconds(gateway.pid!) - cpu0;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: (cpu / result.requests.total) * 1e6,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}
type Load = Awaited<ReturnType<typeof load>>;

try {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // The first validated request also has the gateway fetch the upstream's document.
    const res = await fetch(`${base}/checked/products/42`).catch(() => undefined);
    if (res?.status === 200) break;
    if (Date.now() > deadline) throw new Error('the gateway did not come up');
    await new Promise((r) => setTimeout(r, 200));
  }
  const refused = await fetch(`${base}/checked/products/0`);
  if (refused.status !== 400) throw new Error(`validation is not on (${refused.status})`);
  for (const sc of scenarios) await load(sc, 2);
  const all = new Map<string, Load[]>(scenarios.map((sc) => [sc.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const sc of scenarios) {
      const l = await load(sc, seconds);
      all.get(sc.name)!.push(l);
      console.log(
        `round ${round + 1} ${sc.name.padEnd(42)} ${Math.round(l.rps)} req/s  p50 ${l.p50} ms  p99 ${l.p99} ms  cpu ${l.cpuUs.toFixed(1)} µs/req  bad ${l.bad}`,
      );
    }
  }
  // The round with the median requests/s, with the median CPU per request over all rounds.
  const median = (name: string) => {
    const sorted = [...all.get(name)!].sort((a, b) => a.rps - b.rps);
    const cpu = all
      .get(name)!
      .map((l) => l.cpuUs)
      .sort((a, b) => a - b);
    return { ...sorted[Math.floor(sorted.length / 2)]!, cpuUs: cpu[Math.floor(cpu.length / 2)]! };
  };
  const baseline = (sc: Scenario) => median(sc.post ? 'POST JSON, no validation' : 'GET, no validation');
  const lines = [
    '# Edge validation benchmark',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}, \`node bench/gateway/validate.ts\`.`,
    `One gateway process, routes with and without \`validate\` to the same in-process upstream; autocannon -c${connections}, ${rounds} rounds of ${seconds} s interleaved, median round shown (CPU: the median over rounds).`,
    `Gateway, upstream and load generator share the machine (1-minute load ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after): CPU µs/request of the gateway is the steadier figure.`,
    '',
    '| scenario | requests/s | p50 ms | p99 ms | gateway CPU µs/request | Δ CPU vs no validation | non-2xx/errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...scenarios.map((sc) => {
      const l = median(sc.name);
      const delta = l.cpuUs - baseline(sc).cpuUs;
      return `| ${sc.name} | ${Math.round(l.rps).toLocaleString('en-US')} | ${l.p50} | ${l.p99} | ${l.cpuUs.toFixed(1)} | ${delta >= 0 ? '+' : ''}${delta.toFixed(1)} | ${l.bad} |`;
    }),
    '',
  ];
  lines.push(
    '## The policy alone',
    '',
    'The validate policy called in process on ready-made requests (the document already fetched, the operation compiled), 200,000 times after 20,000 warm-up calls. The end-to-end difference above also holds what a live process adds around it (the wait on the kept document, the metric, more garbage) and the noise of a shared machine.',
    '',
    '| request | µs/request |',
    '|---|---:|',
    ...(await policyAlone()).map(([name, us]) => `| ${name} | ${us.toFixed(2)} |`),
    '',
  );
  writeFileSync(join(root, 'bench/results/gateway-validate.md'), lines.join('\n'));
  console.log(lines.join('\n'));
} finally {
  gateway.kill('SIGTERM');
  upstream.close();
}

async function policyAlone(): Promise<Array<[string, number]>> {
  const gatewayDocument = {
    ...document,
    paths: Object.fromEntries(
      Object.entries(document.paths).map(([path, item]) => [`/checked${path}`, item]),
    ),
  };
  const def = { name: 'checked', path: '/checked', upstream: 'bench', validate: true } as RouteDef;
  const hooks = { validated() {}, drifted() {} };
  const policy = validator(
    { name: 'checked', path: '/checked', upstream: 'bench', policies: new Set(['validate']) },
    def.validate,
    async () => gatewayDocument as never,
    hooks,
  )!;
  const route = { name: 'checked', path: '/checked' };
  const raw = Buffer.from(body);
  type Context = Parameters<NonNullable<ReturnType<typeof validator>>>[0];
  const requests: Array<[string, () => Context]> = [
    [
      'GET, path and query parameters',
      () =>
        ({
          method: 'GET',
          path: '/checked/products/42',
          search: '?currency=USD',
          route,
          req: { headers: {} },
        }) as never,
    ],
    [
      'POST, JSON body of 6 fields',
      () =>
        ({
          method: 'POST',
          path: '/checked/products',
          search: '',
          route,
          body: raw,
          req: { headers: { 'content-type': 'application/json' } },
        }) as never,
    ],
  ];
  const next = async () => {};
  const out: Array<[string, number]> = [];
  for (const [name, make] of requests) {
    for (let i = 0; i < 20_000; i++) await policy(make(), next);
    const n = 200_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await policy(make(), next);
    out.push([name, Number(process.hrtime.bigint() - started) / n / 1000]);
  }
  return out;
}
