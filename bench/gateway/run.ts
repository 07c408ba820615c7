/**
 * Side-by-side gateway benchmark, one run, one machine: the upstream directly, nginx as a
 * bare reverse proxy, @fastify/http-proxy as a bare proxy, and the Portico gateway with JWT
 * auth and rate limiting on (a limit too high to reject), then on a cache hit. Load from
 * Debian's wrk (C, one thread) so the load generator takes as little CPU as possible.
 * Also: a floor Node proxy (no policies), the limit in Redis, and `workers: 2` sharing Redis.
 * Writes bench/results/gateway.md, with /proc/loadavg before and after.
 *
 *   node bench/gateway/run.ts            (BENCH_SECONDS=4 per round, BENCH_ROUNDS=5, BENCH_CONNECTIONS=50)
 *
 * Needs `wrk` and `nginx` (installed with apt-get when missing and this runs as root; otherwise
 * it says how) and a Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestIssuer } from '@portico/auth/testing';

const exec = promisify(execFile);

/** wrk and nginx from Debian: installed when missing (as root), else the command to run. */
async function tools() {
  const missing: string[] = [];
  for (const [tool, pkg] of [
    ['wrk', 'wrk'],
    ['nginx', 'nginx-light'],
  ] as const) {
    try {
      await exec('sh', ['-c', `command -v ${tool}`]);
    } catch {
      missing.push(pkg);
    }
  }
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`missing ${missing.join(', ')}: run \`sudo apt-get update && sudo ${command}\` first`);
    process.exit(1);
  }
  console.log(`installing ${missing.join(', ')}`);
  await exec('sh', ['-c', `${command} || (apt-get update && ${command})`], { maxBuffer: 64 * 1024 * 1024 });
}
await tools();
const root = new URL('../../', import.meta.url).pathname;
const node = process.execPath;
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const loadNow = () => readFileSync('/proc/loadavg', 'utf8').trim();
const loadBefore = loadNow();
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const only = process.env.BENCH_ONLY?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'portico-bench-gw-'));
const children: ChildProcess[] = [];

interface Load {
  /** CPU time of the measured server per request (user + system), from /proc. */
  cpuUs: number;
  /** The same for the main thread alone (the process's other threads are V8's GC and compiler). */
  mainUs: number;
  /** User time alone of the whole process per request: the JavaScript and V8's work, not the kernel's sockets. */
  userUs: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

function toMs(text: string | undefined): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text ?? '');
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

/** User + system CPU seconds of `pid` and its children (a cluster primary and its workers). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  let total = (Number(fields[11]) + Number(fields[12])) / 100;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  for (const child of children ? children.split(' ') : []) total += cpuSeconds(Number(child));
  return total;
}

/** User CPU seconds of `pid` alone (its own threads, no children): what the kernel's socket work leaves out. */
function userSeconds(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[11]) / 100;
}

/** User + system CPU seconds of `pid`'s main thread alone (JavaScript; V8's GC and compiler threads excluded). */
function mainThreadSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function wrkWarm(url: string, headers: string[]) {
  // JIT, pools, caches: the first seconds of any server are not its steady state.
  await exec('wrk', ['-t1', `-c${connections}`, '-d2s', ...headers.flatMap((x) => ['-H', x]), url]);
}

async function wrk(url: string, pid: number, headers: string[] = []): Promise<Load> {
  const h = headers.flatMap((x) => ['-H', x]);
  const cpu0 = cpuSeconds(pid);
  const main0 = mainThreadSeconds(pid);
  const user0 = userSeconds(pid);
  const { stdout } = await exec('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...h, url]);
  const cpu = cpuSeconds(pid) - cpu0;
  const main = mainThreadSeconds(pid) - main0;
  const user = userSeconds(pid) - user0;
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    cpuUs: (cpu / requests) * 1e6,
    mainUs: (main / requests) * 1e6,
    userUs: (user / requests) * 1e6,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
    p50: toMs(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1]),
    p99: toMs(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1]),
    errors: socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0),
  };
}

/** BENCH_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) go to the gateways' Node. */
const gatewayFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];

function launch(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => process.env.BENCH_VERBOSE && process.stderr.write(c));
  child.stdout?.on('data', (c: Buffer) => process.env.BENCH_VERBOSE && process.stderr.write(c));
  children.push(child);
  return child;
}

async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function stopAll() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
  );
  children.length = 0;
}

// BENCH_PORT_BASE moves every listener, so two runs on one machine do not collide.
const base = Number(process.env.BENCH_PORT_BASE ?? 18101);
const ports = {
  upstream: base,
  nginx: base + 1,
  fastify: base + 2,
  gateway: base + 3,
  gatewayFastify: base + 4,
  jwks: base + 5,
  gatewayRedis: base + 6,
  floor: base + 7,
  workers: base + 8,
  compare: base + 9,
  before: base + 10,
  beforeRedis: base + 11,
};

// The identity provider's part: a JWKS endpoint, and a token it signed.
const issuer = await createTestIssuer();
const jwksServer = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(issuer.jwks));
}).listen(ports.jwks, '127.0.0.1');
const token = await issuer.sign(
  { sub: 'bench-user', roles: ['customer'], scope: 'openid' },
  { expiresIn: '1h' },
);
const auth = `Authorization: Bearer ${token}`;

const gatewayFile = join(dir, 'gateway.yaml');
writeFileSync(
  gatewayFile,
  `upstreams:
  bench: { instances: [http://127.0.0.1:${ports.upstream}] }
routes:
  - name: products
    path: /api/v1/products
    upstream: bench
    auth: { default: token }
    rateLimit: { limit: 100000000, window: 1m }
  - name: cached
    path: /cached
    upstream: bench
    auth: { default: token }
    rateLimit: { limit: 100000000, window: 1m }
    cache: { ttl: 1m }
  - name: cached-open
    path: /cached-open
    upstream: bench
    auth: { default: token }
    cache: { ttl: 1m }
`,
);

const nginxConf = join(dir, 'nginx.conf');
writeFileSync(
  nginxConf,
  `worker_processes 1;
daemon off;
error_log ${dir}/nginx-error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${ports.upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${ports.nginx};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
);

const gatewayEnv = (port: number, hotPath: string) => ({
  GATEWAY_PORT: String(port),
  GATEWAY_OPERATOR_PORT: String(port + 50),
  GATEWAY_WORKERS: '1',
  GATEWAY_FILE: gatewayFile,
  GATEWAY_WATCH: 'false',
  GATEWAY_HOT_PATH: hotPath,
  LOG_LEVEL: 'warn',
  AUTH_JWKS_URI: `http://127.0.0.1:${ports.jwks}/jwks`,
  REDIS_URL: '',
});

interface Scenario {
  name: string;
  pid: number;
  url: string;
  headers: string[];
  note: string;
}

const results: Array<{ name: string; load: Load; note: string; rounds: number[]; cpuRounds: number[] }> = [];

/**
 * Every scenario runs `rounds` times, interleaved (A B C … A B C …), and the round with the
 * median requests/s is reported: other work on the machine then hits every server alike
 * instead of whichever happened to run during a spike.
 */
async function runAll(scenarios: Scenario[]) {
  const chosen = scenarios.filter((sc) => !only || only.some((o) => sc.name.includes(o)));
  const loads = new Map<string, Load[]>(chosen.map((sc) => [sc.name, []]));
  for (const sc of chosen) await wrkWarm(sc.url, sc.headers);
  for (let round = 0; round < rounds; round++) {
    for (const sc of chosen) {
      const load = await wrk(sc.url, sc.pid, sc.headers);
      loads.get(sc.name)!.push(load);
      console.log(
        `round ${round + 1} ${sc.name.padEnd(46)} ${Math.round(load.rps).toString().padStart(7)} req/s  p50 ${load.p50.toFixed(2)} ms  p99 ${load.p99.toFixed(2)} ms  cpu ${load.cpuUs.toFixed(1)} µs/req (main thread ${load.mainUs.toFixed(1)}, user ${load.userUs.toFixed(1)})  non2xx ${load.non2xx}  errors ${load.errors}`,
      );
    }
  }
  for (const sc of chosen) {
    const all = loads.get(sc.name)!;
    const sorted = [...all].sort((a, b) => a.rps - b.rps);
    const cpu = all.map((l) => l.cpuUs).sort((a, b) => a - b);
    results.push({
      name: sc.name,
      // CPU per request: the median over the rounds, not the median round's own.
      load: { ...sorted[Math.floor(sorted.length / 2)]!, cpuUs: cpu[Math.floor(cpu.length / 2)]! },
      note: sc.note,
      rounds: all.map((l) => l.rps),
      cpuRounds: cpu,
    });
  }
}

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
try {
  const upstream = launch(node, [join(root, 'bench/gateway/upstream.ts')], { PORT: String(ports.upstream) });
  const nginx = launch('nginx', ['-c', nginxConf, '-p', dir], {});
  const fastify = launch(node, [join(root, 'bench/gateway/fastify-proxy.ts')], {
    PORT: String(ports.fastify),
    UPSTREAM: `http://127.0.0.1:${ports.upstream}`,
  });
  const gw = launch(
    node,
    [...gatewayFlags, join(root, 'services/gateway/src/main.ts')],
    gatewayEnv(ports.gateway, 'node'),
  );
  // BENCH_BEFORE_ROOT: a checkout of an earlier commit (with this node_modules' packages, its
  // own workspace links), whose gateway runs beside this one: before and after in one run.
  const beforeRoot = process.env.BENCH_BEFORE_ROOT;
  const before = beforeRoot
    ? launch(node, [join(beforeRoot, 'services/gateway/src/main.ts')], gatewayEnv(ports.before, 'node'))
    : undefined;
  const beforeRedis = beforeRoot
    ? launch(node, [join(beforeRoot, 'services/gateway/src/main.ts')], {
        ...gatewayEnv(ports.beforeRedis, 'node'),
        REDIS_URL: redisUrl,
        GATEWAY_REDIS_PREFIX: `bench:${process.pid}:b:`,
      })
    : undefined;
  // BENCH_COMPARE_FLAGS: a second in-memory gateway with these Node flags, measured beside the first.
  const compareFlags = process.env.BENCH_COMPARE_FLAGS?.split(' ').filter(Boolean);
  const compared = compareFlags
    ? launch(
        node,
        [...compareFlags, join(root, 'services/gateway/src/main.ts')],
        gatewayEnv(ports.compare, 'node'),
      )
    : undefined;
  const floor = launch(node, [...gatewayFlags, join(root, 'bench/gateway/node-proxy.ts')], {
    PORT: String(ports.floor),
    UPSTREAM: `http://127.0.0.1:${ports.upstream}`,
  });
  const workers = launch(node, [...gatewayFlags, join(root, 'services/gateway/src/main.ts')], {
    ...gatewayEnv(ports.workers, 'node'),
    GATEWAY_WORKERS: '2',
    REDIS_URL: redisUrl,
    GATEWAY_REDIS_PREFIX: `bench:${process.pid}:w:`,
  });
  const withRedis = launch(node, [...gatewayFlags, join(root, 'services/gateway/src/main.ts')], {
    ...gatewayEnv(ports.gatewayRedis, 'node'),
    REDIS_URL: redisUrl,
    GATEWAY_REDIS_PREFIX: `bench:${process.pid}:`,
  });
  const viaFastify = launch(
    node,
    [...gatewayFlags, join(root, 'services/gateway/src/main.ts')],
    gatewayEnv(ports.gatewayFastify, 'fastify'),
  );
  const bearer = { authorization: `Bearer ${token}` };
  await waitFor(`http://127.0.0.1:${ports.upstream}/`);
  await waitFor(`http://127.0.0.1:${ports.nginx}/`);
  await waitFor(`http://127.0.0.1:${ports.fastify}/`);
  await waitFor(`http://127.0.0.1:${ports.gateway}/api/v1/products/42`, bearer);
  await waitFor(`http://127.0.0.1:${ports.gatewayFastify}/api/v1/products/42`, bearer);
  await waitFor(`http://127.0.0.1:${ports.gatewayRedis}/api/v1/products/42`, bearer);
  await waitFor(`http://127.0.0.1:${ports.floor}/`);
  if (before) await waitFor(`http://127.0.0.1:${ports.before}/api/v1/products/42`, bearer);
  if (beforeRedis) await waitFor(`http://127.0.0.1:${ports.beforeRedis}/api/v1/products/42`, bearer);
  if (compared) await waitFor(`http://127.0.0.1:${ports.compare}/api/v1/products/42`, bearer);
  await waitFor(`http://127.0.0.1:${ports.workers}/api/v1/products/42`, bearer);
  const worker = Number(
    readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(' ')[0],
  );
  const path = '/api/v1/products/42';
  await runAll([
    {
      name: 'upstream directly (node:http)',
      pid: upstream.pid!,
      url: `http://127.0.0.1:${ports.upstream}${path}`,
      headers: [],
      note: 'baseline',
    },
    {
      name: 'nginx bare reverse proxy',
      pid: worker,
      url: `http://127.0.0.1:${ports.nginx}${path}`,
      headers: [],
      note: '1 worker, keepalive 64, access_log off',
    },
    {
      name: 'Node floor: node:http + undici, no policies',
      pid: floor.pid!,
      url: `http://127.0.0.1:${ports.floor}${path}`,
      headers: [],
      note: 'bench/gateway/node-proxy.ts: what any Node proxy pays before doing anything',
    },
    {
      name: '@fastify/http-proxy bare proxy',
      pid: fastify.pid!,
      url: `http://127.0.0.1:${ports.fastify}${path}`,
      headers: [],
      note: 'no auth, no limits',
    },
    {
      name: 'Portico gateway: JWT auth + rate limit',
      pid: gw.pid!,
      url: `http://127.0.0.1:${ports.gateway}${path}`,
      headers: [auth],
      note: 'RS256 token via JWKS, sliding-window limit in memory',
    },
    {
      name: 'Portico gateway: cache hit (JWT + limit on)',
      pid: gw.pid!,
      url: `http://127.0.0.1:${ports.gateway}/cached/42`,
      headers: [auth],
      note: 'same policies, answered from the memory cache',
    },
    {
      name: 'Portico gateway: cache hit, no limit',
      pid: gw.pid!,
      url: `http://127.0.0.1:${ports.gateway}/cached-open/42`,
      headers: [auth],
      note: 'JWT on, no rate limit: the hit needs no store call (the gateway keeps a copy)',
    },
    ...(before && beforeRedis
      ? [
          {
            name: 'before: JWT + rate limit',
            pid: before.pid!,
            url: `http://127.0.0.1:${ports.before}${path}`,
            headers: [auth],
            note: `the gateway at ${process.env.BENCH_BEFORE_LABEL ?? beforeRoot}, limit in memory`,
          },
          {
            name: 'before: cache hit',
            pid: before.pid!,
            url: `http://127.0.0.1:${ports.before}/cached/42`,
            headers: [auth],
            note: `the gateway at ${process.env.BENCH_BEFORE_LABEL ?? beforeRoot}`,
          },
          {
            name: 'before: cache hit, no limit',
            pid: before.pid!,
            url: `http://127.0.0.1:${ports.before}/cached-open/42`,
            headers: [auth],
            note: `the gateway at ${process.env.BENCH_BEFORE_LABEL ?? beforeRoot}`,
          },
          {
            name: 'before: cache hit, no limit, Redis',
            pid: beforeRedis.pid!,
            url: `http://127.0.0.1:${ports.beforeRedis}/cached-open/42`,
            headers: [auth],
            note: `the gateway at ${process.env.BENCH_BEFORE_LABEL ?? beforeRoot}: one MGET per event-loop turn`,
          },
          {
            name: 'before: JWT + rate limit in Redis',
            pid: beforeRedis.pid!,
            url: `http://127.0.0.1:${ports.beforeRedis}${path}`,
            headers: [auth],
            note: `the gateway at ${process.env.BENCH_BEFORE_LABEL ?? beforeRoot}: one Lua call per request`,
          },
        ]
      : []),
    ...(compared
      ? [
          {
            name: `gateway: JWT + rate limit, ${compareFlags!.join(' ')}`,
            pid: compared.pid!,
            url: `http://127.0.0.1:${ports.compare}${path}`,
            headers: [auth],
            note: 'the memory gateway with other Node flags (BENCH_COMPARE_FLAGS)',
          },
          {
            name: `gateway: cache hit, ${compareFlags!.join(' ')}`,
            pid: compared.pid!,
            url: `http://127.0.0.1:${ports.compare}/cached/42`,
            headers: [auth],
            note: 'the memory gateway with other Node flags (BENCH_COMPARE_FLAGS)',
          },
        ]
      : []),
    {
      name: 'gateway via a Fastify route (decision check)',
      pid: viaFastify.pid!,
      url: `http://127.0.0.1:${ports.gatewayFastify}${path}`,
      headers: [auth],
      note: 'same pipeline behind a Fastify catch-all route',
    },
    {
      name: 'Portico gateway: JWT + rate limit in Redis',
      pid: withRedis.pid!,
      url: `http://127.0.0.1:${ports.gatewayRedis}${path}`,
      headers: [auth],
      note: 'scaled-out mode: the limit shared through Redis, one script call per event-loop turn',
    },
    {
      name: 'Portico gateway: cache hit, Redis',
      pid: withRedis.pid!,
      url: `http://127.0.0.1:${ports.gatewayRedis}/cached/42`,
      headers: [auth],
      note: 'the limit and the cached answer both in Redis',
    },
    {
      name: 'Portico gateway: cache hit, no limit, Redis',
      pid: withRedis.pid!,
      url: `http://127.0.0.1:${ports.gatewayRedis}/cached-open/42`,
      headers: [auth],
      note: 'the cached answer in Redis, no rate limit: answered from the gateway’s copy, no round trip',
    },
    {
      name: 'Portico gateway: workers 2, Redis',
      pid: workers.pid!,
      url: `http://127.0.0.1:${ports.workers}${path}`,
      headers: [auth],
      note: 'GATEWAY_WORKERS=2 (node:cluster) sharing the limit in Redis; CPU of primary + workers',
    },
  ]);
} finally {
  await stopAll();
  jwksServer.close();
}

/** This commit's row whose name has `part`; rows of BENCH_BEFORE_ROOT only when `part` names them. */
const by = (part: string) =>
  results.find((r) => r.name.includes(part) && (part.startsWith('before:') || !r.name.startsWith('before:')))
    ?.load;
const direct = by('directly');
const nginx = by('nginx');
const fastify = by('@fastify');
const lines = [
  '# Gateway benchmark',
  '',
  `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}, \`node bench/gateway/run.ts\`.`,
  `Each row: wrk -t1 -c${connections}, ${rounds} rounds of ${seconds} s interleaved across all servers after a 2 s warm-up each; the round with the median requests/s is shown (all rounds in the last column).`,
  `The upstream, the proxy and wrk share the same ${cpus().length} cores, and other jobs were running on this machine too, so requests/s moves with them;`,
  `/proc/loadavg before the run: \`${loadBefore}\`, after: \`${loadNow()}\`.`,
  '"CPU µs/request" (user + system time of the proxy process and its children per request, from /proc; the median over the rounds, all rounds in the last column) is the steadier measure of what each proxy costs.',
  '',
  '| server | requests/s | p50 ms | p99 ms | vs direct | vs nginx | vs @fastify/http-proxy | CPU µs/request | non-2xx | socket errors | notes | rounds (req/s) | rounds (CPU µs/request, sorted) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|',
  ...results.map(({ name, load, note, rounds: all, cpuRounds }) => {
    const ratio = (base?: Load) => (base ? `${(load.rps / base.rps).toFixed(2)}x` : '–');
    return `| ${name} | ${Math.round(load.rps).toLocaleString('en-US')} | ${load.p50.toFixed(2)} | ${load.p99.toFixed(2)} | ${ratio(direct)} | ${ratio(nginx)} | ${ratio(fastify)} | ${load.cpuUs.toFixed(1)} | ${load.non2xx} | ${load.errors} | ${note} | ${all.map((r) => Math.round(r).toLocaleString('en-US')).join(' / ')} | ${cpuRounds.map((c) => c.toFixed(1)).join(' / ')} |`;
  }),
  '',
];
const gwLoad = by('JWT auth + rate limit');
const hit = by('cache hit (JWT');
const redis = by('rate limit in Redis');
const floorLoad = by('Node floor');
const workersLoad = by('workers 2');
const open = by('cache hit, no limit');
const openRedis = by('cache hit, no limit, Redis');
const beforeOpen = by('before: cache hit, no limit');
const beforeOpenRedis = by('before: cache hit, no limit, Redis');
const beforeMemory = by('before: JWT + rate limit');
const beforeRedis = by('before: JWT + rate limit in Redis');
const beforeHit = by('before: cache hit');
if (gwLoad && nginx && hit && redis) {
  const pass = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  lines.push(
    '## Targets (issue 13)',
    '',
    `- JWT + rate limit in memory, CPU per request ≤ 1.6x nginx's: ${gwLoad.cpuUs.toFixed(1)} / ${nginx.cpuUs.toFixed(1)} µs = ${x(gwLoad.cpuUs, nginx.cpuUs)} — ${pass(gwLoad.cpuUs <= 1.6 * nginx.cpuUs)}`,
    `- JWT + rate limit in memory, throughput ≥ 0.7x nginx: ${x(gwLoad.rps, nginx.rps)} — ${pass(gwLoad.rps >= 0.7 * nginx.rps)}`,
    `- limit in Redis, CPU per request ≤ 1.2x the memory mode's: ${redis.cpuUs.toFixed(1)} / ${gwLoad.cpuUs.toFixed(1)} µs = ${x(redis.cpuUs, gwLoad.cpuUs)} — ${pass(redis.cpuUs <= 1.2 * gwLoad.cpuUs)}`,
    `- cache hit ≥ 1.2x nginx's throughput: ${x(hit.rps, nginx.rps)} — ${pass(hit.rps >= 1.2 * nginx.rps)}`,
    ...(beforeMemory && beforeRedis
      ? [
          `- before (${process.env.BENCH_BEFORE_LABEL ?? process.env.BENCH_BEFORE_ROOT}), same run: memory ${beforeMemory.cpuUs.toFixed(1)} µs, Redis ${beforeRedis.cpuUs.toFixed(1)} µs per request (Redis ${x(beforeRedis.cpuUs, beforeMemory.cpuUs)} the memory mode's)${beforeHit ? `, cache hit ${beforeHit.cpuUs.toFixed(1)} µs, ${x(beforeHit.rps, nginx.rps)} nginx's throughput` : ''}`,
        ]
      : []),
    ...(open && openRedis
      ? [
          `- cache hit with no limit update (no store call): memory ${open.cpuUs.toFixed(1)} µs, ${x(open.rps, nginx.rps)} nginx's throughput; Redis ${openRedis.cpuUs.toFixed(1)} µs, ${x(openRedis.rps, nginx.rps)}${beforeOpen && beforeOpenRedis ? ` (before: memory ${beforeOpen.cpuUs.toFixed(1)} µs, ${x(beforeOpen.rps, nginx.rps)}; Redis ${beforeOpenRedis.cpuUs.toFixed(1)} µs, ${x(beforeOpenRedis.rps, nginx.rps)})` : ''}`,
        ]
      : []),
    ...(floorLoad
      ? [
          `- the floor (node:http + undici, no policies): ${floorLoad.cpuUs.toFixed(1)} µs = ${x(floorLoad.cpuUs, nginx.cpuUs)} nginx's CPU per request, ${x(floorLoad.rps, nginx.rps)} its throughput; the gateway (JWT + limit) is ${x(gwLoad.cpuUs, floorLoad.cpuUs)} the floor's CPU per request${beforeMemory ? ` (before: ${x(beforeMemory.cpuUs, floorLoad.cpuUs)})` : ''}`,
        ]
      : []),
    ...(workersLoad
      ? [
          `- workers: 2 workers sharing Redis served ${x(workersLoad.rps, redis.rps)} the requests/s of one worker on Redis, at ${workersLoad.cpuUs.toFixed(1)} µs per request (primary + workers)`,
        ]
      : []),
    '',
    `CPU per request of the proxy process: gateway ${gwLoad.cpuUs.toFixed(1)} µs (cache hit ${hit.cpuUs.toFixed(1)} µs, Redis ${redis.cpuUs.toFixed(1)} µs),`,
    `nginx ${nginx.cpuUs.toFixed(1)} µs, a bare Node proxy ${floorLoad?.cpuUs.toFixed(1) ?? '?'} µs${fastify ? `, @fastify/http-proxy ${fastify.cpuUs.toFixed(1)} µs` : ''}; the upstream itself ${direct?.cpuUs.toFixed(1) ?? '?'} µs.`,
    '',
  );
}
if (!only) {
  writeFileSync(join(root, 'bench/results/gateway.md'), lines.join('\n'));
  console.log('\nwrote bench/results/gateway.md');
}
console.log(lines.join('\n'));
