/**
 * Side-by-side gateway benchmark, one run, one machine: the upstream directly, nginx as a
 * bare reverse proxy, @fastify/http-proxy as a bare proxy, and the Portico gateway with JWT
 * auth and rate limiting on (a limit too high to reject), then on a cache hit. Load from
 * Debian's wrk (C, one thread) so the load generator takes as little CPU as possible.
 * Writes bench/results/gateway.md.
 *
 *   node bench/gateway/run.ts            (BENCH_SECONDS=10, BENCH_CONNECTIONS=50)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestIssuer } from '@portico/auth/testing';

const exec = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const node = process.execPath;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const only = process.env.BENCH_ONLY?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'portico-bench-gw-'));
const children: ChildProcess[] = [];

interface Load {
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

async function wrk(url: string, headers: string[] = []): Promise<Load> {
  const h = headers.flatMap((x) => ['-H', x]);
  await exec('wrk', ['-t1', `-c${connections}`, '-d2s', ...h, url]); // warm-up (JIT, pools)
  const { stdout } = await exec('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...h, url]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
    p50: toMs(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1]),
    p99: toMs(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1]),
    errors: socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0),
  };
}

function launch(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => process.env.BENCH_VERBOSE && process.stderr.write(c));
  children.push(child);
  return child;
}

async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 20_000;
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

const ports = {
  upstream: 18101,
  nginx: 18102,
  fastify: 18103,
  gateway: 18104,
  gatewayFastify: 18105,
  jwks: 18106,
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
  GATEWAY_FILE: gatewayFile,
  GATEWAY_WATCH: 'false',
  GATEWAY_HOT_PATH: hotPath,
  LOG_LEVEL: 'warn',
  AUTH_JWKS_URI: `http://127.0.0.1:${ports.jwks}/jwks`,
  REDIS_URL: '',
});

const results: Array<{ name: string; load: Load; note: string }> = [];
async function measure(name: string, url: string, headers: string[], note: string) {
  if (only && !only.some((o) => name.includes(o))) return;
  const load = await wrk(url, headers);
  results.push({ name, load, note });
  console.log(
    `${name.padEnd(46)} ${Math.round(load.rps).toString().padStart(7)} req/s  p50 ${load.p50.toFixed(2)} ms  p99 ${load.p99.toFixed(2)} ms  non2xx ${load.non2xx}  errors ${load.errors}`,
  );
}

try {
  launch(node, [join(root, 'bench/gateway/upstream.ts')], { PORT: String(ports.upstream) });
  await waitFor(`http://127.0.0.1:${ports.upstream}/`);
  await measure(
    'upstream directly (node:http)',
    `http://127.0.0.1:${ports.upstream}/api/v1/products/42`,
    [],
    'baseline',
  );

  launch('nginx', ['-c', nginxConf, '-p', dir], {});
  await waitFor(`http://127.0.0.1:${ports.nginx}/`);
  await measure(
    'nginx bare reverse proxy',
    `http://127.0.0.1:${ports.nginx}/api/v1/products/42`,
    [],
    '1 worker, keepalive 64, access_log off',
  );
  await stopAll();
  launch(node, [join(root, 'bench/gateway/upstream.ts')], { PORT: String(ports.upstream) });
  await waitFor(`http://127.0.0.1:${ports.upstream}/`);

  launch(node, [join(root, 'bench/gateway/fastify-proxy.ts')], {
    PORT: String(ports.fastify),
    UPSTREAM: `http://127.0.0.1:${ports.upstream}`,
  });
  await waitFor(`http://127.0.0.1:${ports.fastify}/`);
  await measure(
    '@fastify/http-proxy bare proxy',
    `http://127.0.0.1:${ports.fastify}/api/v1/products/42`,
    [],
    'no auth, no limits',
  );
  children.pop()?.kill('SIGTERM');

  const gw = launch(node, [join(root, 'services/gateway/src/main.ts')], gatewayEnv(ports.gateway, 'node'));
  await waitFor(`http://127.0.0.1:${ports.gateway}/api/v1/products/42`, { authorization: `Bearer ${token}` });
  await measure(
    'Portico gateway: JWT auth + rate limit',
    `http://127.0.0.1:${ports.gateway}/api/v1/products/42`,
    [auth],
    'RS256 token via JWKS, sliding-window limit in memory',
  );
  await measure(
    'Portico gateway: cache hit (JWT + limit on)',
    `http://127.0.0.1:${ports.gateway}/cached/42`,
    [auth],
    'same policies, answered from the memory cache',
  );
  gw.kill('SIGTERM');

  if (process.env.BENCH_HOT_PATH !== 'skip') {
    launch(node, [join(root, 'services/gateway/src/main.ts')], gatewayEnv(ports.gatewayFastify, 'fastify'));
    await waitFor(`http://127.0.0.1:${ports.gatewayFastify}/api/v1/products/42`, {
      authorization: `Bearer ${token}`,
    });
    await measure(
      'gateway via a Fastify route (decision check)',
      `http://127.0.0.1:${ports.gatewayFastify}/api/v1/products/42`,
      [auth],
      'same pipeline behind a Fastify catch-all route',
    );
  }
} finally {
  await stopAll();
  jwksServer.close();
}

const by = (part: string) => results.find((r) => r.name.includes(part))?.load;
const direct = by('directly');
const nginx = by('nginx');
const fastify = by('@fastify');
const lines = [
  '# Gateway benchmark',
  '',
  `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}; wrk -t1 -c${connections} -d${seconds}s after a 2 s warm-up.`,
  'Every server, the upstream and wrk share the same two cores, so each number includes the others’ CPU use.',
  '',
  '| server | requests/s | p50 ms | p99 ms | vs direct | vs nginx | vs @fastify/http-proxy | non-2xx | socket errors | notes |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ...results.map(({ name, load, note }) => {
    const ratio = (base?: Load) => (base ? `${(load.rps / base.rps).toFixed(2)}x` : '–');
    return `| ${name} | ${Math.round(load.rps).toLocaleString('en-US')} | ${load.p50.toFixed(2)} | ${load.p99.toFixed(2)} | ${ratio(direct)} | ${ratio(nginx)} | ${ratio(fastify)} | ${load.non2xx} | ${load.errors} | ${note} |`;
  }),
  '',
];
const gwLoad = by('JWT auth + rate limit');
const hit = by('cache hit');
if (gwLoad && nginx && fastify && hit) {
  const pass = (ok: boolean) => (ok ? 'met' : 'NOT met');
  lines.push(
    '## Targets',
    '',
    `- gateway with auth + rate limiting ≥ 0.5x nginx: ${(gwLoad.rps / nginx.rps).toFixed(2)}x — ${pass(gwLoad.rps >= 0.5 * nginx.rps)}`,
    `- gateway ahead of @fastify/http-proxy: ${(gwLoad.rps / fastify.rps).toFixed(2)}x — ${pass(gwLoad.rps > fastify.rps)}`,
    `- cache hit ≥ nginx bare proxy: ${(hit.rps / nginx.rps).toFixed(2)}x — ${pass(hit.rps >= nginx.rps)}`,
    '',
  );
}
if (!only) {
  writeFileSync(join(root, 'bench/results/gateway.md'), lines.join('\n'));
  console.log('\nwrote bench/results/gateway.md');
}
console.log(lines.join('\n'));
