/**
 * Instructions per request, counted by valgrind's callgrind: each proxy runs under callgrind,
 * gets a warm-up, then a counted wrk run; (Ir after − Ir before) / requests. User-space
 * instructions of every thread of the process (JIT code, GC threads), no kernel time. Unlike
 * CPU time this does not move with the machine's load, so small changes can be compared on a
 * busy machine; it does not see the syscalls, which cost nginx and a Node proxy alike.
 *
 *   node bench/gateway/instructions.ts      (BENCH_SECONDS=10 counted, BENCH_PORT_BASE=18201)
 *   BENCH_BEFORE_ROOT=<checkout of an earlier commit> adds its gateway beside this one.
 *
 * Needs valgrind, wrk and nginx (apt-get install -y valgrind wrk nginx-light). Writes
 * bench/results/gateway-instructions.md.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestIssuer } from '@portico/auth/testing';

const exec = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const node = process.execPath;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const base = Number(process.env.BENCH_PORT_BASE ?? 18201);
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const beforeRoot = process.env.BENCH_BEFORE_ROOT;
const dir = mkdtempSync(join(tmpdir(), 'portico-instr-'));
const children: ChildProcess[] = [];
const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();

function launch(command: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: 'ignore', cwd: dir });
  children.push(child);
  return child;
}

const valgrind = (args: string[]) => [
  '--tool=callgrind',
  `--callgrind-out-file=${dir}/callgrind.%p`,
  '--dump-line=no',
  '--compress-strings=no',
  // Start-up (module loading, type stripping) runs uninstrumented: several times faster.
  '--instr-atstart=no',
  ...args,
];

async function up(url: string, headers: Record<string, string> = {}) {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} never came up`);
}

/** Instructions executed so far by the callgrind run of `pid`. */
async function instructions(pid: number): Promise<number> {
  const { stdout } = await exec('callgrind_control', ['-e', 'Ir', String(pid)], { cwd: dir });
  // "Totals: Ir" then one line per thread: "Th 1  151,268,452".
  const totals = stdout.slice(stdout.indexOf('Totals:'));
  const threads = [...totals.matchAll(/^\s*Th\s+\d+\s+([\d,]+)/gm)];
  if (!stdout.includes('Totals:') || threads.length === 0)
    throw new Error(`callgrind_control gave no count:\n${stdout}`);
  return threads.reduce((sum, m) => sum + Number(m[1]!.replaceAll(',', '')), 0);
}

async function wrk(url: string, headers: string[], duration: number): Promise<number> {
  const { stdout } = await exec('wrk', [
    '-t1',
    '-c10',
    `-d${duration}s`,
    ...headers.flatMap((h) => ['-H', h]),
    url,
  ]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`${url}: ${non2xx} non-2xx answers`);
  return Number(/(\d+) requests in/.exec(stdout)?.[1]);
}

interface Row {
  name: string;
  perRequest: number;
  requests: number;
  note: string;
}

const issuer = await createTestIssuer();
const ports = {
  upstream: base,
  jwks: base + 1,
  nginx: base + 2,
  floor: base + 3,
  gateway: base + 4,
  redis: base + 5,
  before: base + 6,
  beforeRedis: base + 7,
};
const jwks = createServer((_q, s) => void s.end(JSON.stringify(issuer.jwks))).listen(ports.jwks, '127.0.0.1');
const token = await issuer.sign({ sub: 'bench', roles: ['customer'] }, { expiresIn: '1h' });
const auth = `Authorization: Bearer ${token}`;
writeFileSync(
  join(dir, 'gateway.yaml'),
  `upstreams:
  bench: { instances: [http://127.0.0.1:${ports.upstream}] }
routes:
  - { name: products, path: /api/v1/products, upstream: bench, auth: { default: token }, rateLimit: { limit: 100000000, window: 1m } }
  - { name: cached, path: /cached, upstream: bench, auth: { default: token }, rateLimit: { limit: 100000000, window: 1m }, cache: { ttl: 1m } }
`,
);
writeFileSync(
  join(dir, 'nginx.conf'),
  `worker_processes 1; daemon off; master_process off; error_log ${dir}/e.log warn; pid ${dir}/n.pid; events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
upstream app { server 127.0.0.1:${ports.upstream}; keepalive 64; }
server { listen 127.0.0.1:${ports.nginx}; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }`,
);
const gatewayEnv = (port: number, redis = '') => ({
  GATEWAY_PORT: String(port),
  GATEWAY_OPERATOR_PORT: String(port + 50),
  GATEWAY_FILE: join(dir, 'gateway.yaml'),
  GATEWAY_WATCH: 'false',
  GATEWAY_WORKERS: '1',
  LOG_LEVEL: 'warn',
  AUTH_JWKS_URI: `http://127.0.0.1:${ports.jwks}/jwks`,
  REDIS_URL: redis,
  GATEWAY_REDIS_PREFIX: `bench:${process.pid}:${port}:`,
});

const rows: Row[] = [];
try {
  launch(node, [join(root, 'bench/gateway/upstream.ts')], { PORT: String(ports.upstream) });
  await up(`http://127.0.0.1:${ports.upstream}/`);
  const servers: Array<{ name: string; child: ChildProcess; url: string; headers: string[]; note: string }> =
    [];
  let last: ChildProcess | undefined;
  /** `args` starts a server under callgrind; `'same'` measures another URL of the one before. */
  const add = (
    name: string,
    args: string[] | 'same',
    env: Record<string, string>,
    url: string,
    note: string,
  ) => {
    if (args !== 'same') last = launch('valgrind', valgrind(args), env);
    const plain = url.includes(`:${ports.nginx}/`) || url.includes(`:${ports.floor}/`);
    servers.push({ name, child: last!, url, headers: plain ? [] : [auth], note });
  };
  const path = '/api/v1/products/42';
  add(
    'nginx bare reverse proxy',
    ['nginx', '-c', join(dir, 'nginx.conf'), '-p', dir],
    {},
    `http://127.0.0.1:${ports.nginx}${path}`,
    'one process (master_process off), keepalive 64',
  );
  add(
    'Node floor: node:http + undici, no policies',
    [node, join(root, 'bench/gateway/node-proxy.ts')],
    { PORT: String(ports.floor), UPSTREAM: `http://127.0.0.1:${ports.upstream}` },
    `http://127.0.0.1:${ports.floor}${path}`,
    'bench/gateway/node-proxy.ts',
  );
  const main = (at: string) => [node, join(at, 'services/gateway/src/main.ts')];
  add(
    'gateway: JWT + rate limit',
    main(root),
    gatewayEnv(ports.gateway),
    `http://127.0.0.1:${ports.gateway}${path}`,
    'limit in memory',
  );
  add(
    'gateway: cache hit',
    'same',
    {},
    `http://127.0.0.1:${ports.gateway}/cached/42`,
    'same process, answered from the memory cache',
  );
  add(
    'gateway: JWT + rate limit in Redis',
    main(root),
    gatewayEnv(ports.redis, redisUrl),
    `http://127.0.0.1:${ports.redis}${path}`,
    'hits of one event-loop turn in one script call',
  );
  if (beforeRoot && process.env.BENCH_BEFORE_ALL) {
    add(
      'before: JWT + rate limit',
      main(beforeRoot),
      gatewayEnv(ports.before),
      `http://127.0.0.1:${ports.before}${path}`,
      process.env.BENCH_BEFORE_LABEL ?? beforeRoot,
    );
    add(
      'before: cache hit',
      'same',
      {},
      `http://127.0.0.1:${ports.before}/cached/42`,
      process.env.BENCH_BEFORE_LABEL ?? beforeRoot,
    );
  }
  if (beforeRoot) {
    add(
      'before: JWT + rate limit in Redis',
      main(beforeRoot),
      gatewayEnv(ports.beforeRedis, redisUrl),
      `http://127.0.0.1:${ports.beforeRedis}${path}`,
      `${process.env.BENCH_BEFORE_LABEL ?? beforeRoot}: one script call per request`,
    );
  }
  for (const s of servers) {
    await up(s.url, s.headers.length ? { authorization: `Bearer ${token}` } : {});
    console.log(`up: ${s.name}`);
  }
  for (const s of servers) {
    // Warm-up, instrumented: JIT, pools, caches, valgrind's translations; then count.
    await exec('callgrind_control', ['-i', 'on', String(s.child.pid)], { cwd: dir });
    await wrk(s.url, s.headers, Math.max(5, seconds / 2));
    const before = await instructions(s.child.pid!);
    const requests = await wrk(s.url, s.headers, seconds);
    const after = await instructions(s.child.pid!);
    await exec('callgrind_control', ['-i', 'off', String(s.child.pid)], { cwd: dir });
    const perRequest = (after - before) / requests;
    rows.push({ name: s.name, perRequest, requests, note: s.note });
    console.log(
      `${s.name.padEnd(44)} ${Math.round(perRequest).toLocaleString('en-US').padStart(9)} instructions/request (${requests} requests)`,
    );
  }
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  jwks.close();
}

const nginx = rows.find((r) => r.name.startsWith('nginx'));
const lines = [
  '# Gateway: instructions per request (callgrind)',
  '',
  `Run ${new Date().toISOString()}, Node ${process.versions.node}, \`node bench/gateway/instructions.ts\`: each server under valgrind's callgrind, warmed up, then wrk -t1 -c10 for ${seconds} s; user-space instructions of the whole process (every thread) per request. Kernel work (the socket syscalls) is not counted.`,
  `/proc/loadavg before: \`${loadBefore}\`, after: \`${readFileSync('/proc/loadavg', 'utf8').trim()}\` (instruction counts do not depend on it).`,
  '',
  '| server | instructions/request | vs nginx | requests counted | notes |',
  '|---|---:|---:|---:|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${Math.round(r.perRequest).toLocaleString('en-US')} | ${nginx ? `${(r.perRequest / nginx.perRequest).toFixed(2)}x` : '–'} | ${r.requests} | ${r.note} |`,
  ),
  '',
];
writeFileSync(join(root, 'bench/results/gateway-instructions.md'), lines.join('\n'));
console.log(lines.join('\n'));
