/**
 * CPU cost per request of each proxy, measured from /proc (user + system time of the proxy
 * process over a wrk run, divided by the requests it served). Unlike requests/s, this barely
 * moves when other work shares the machine, so it is the number to watch while optimising.
 *
 *   node bench/gateway/cpu.ts            (BENCH_SECONDS=5)
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
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'portico-cpu-'));
const children: ChildProcess[] = [];
const ticks = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function launch(command: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  children.push(child);
  return child;
}

async function up(url: string, headers: Record<string, string> = {}) {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never came up`);
}

const only = process.env.BENCH_ONLY?.split(',');

async function measure(name: string, pid: number, url: string, headers: string[] = []) {
  if (only && !only.some((part) => name.includes(part))) return;
  const h = headers.flatMap((x) => ['-H', x]);
  await exec('wrk', ['-t1', '-c50', '-d2s', ...h, url]);
  const before = cpuSeconds(pid);
  const { stdout } = await exec('wrk', ['-t1', '-c50', `-d${seconds}s`, ...h, url]);
  const cpu = cpuSeconds(pid) - before;
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  console.log(
    `${name.padEnd(34)} ${((cpu / requests) * 1e6).toFixed(1).padStart(6)} µs CPU/request   ${Math.round(rps)} req/s`,
  );
}

const issuer = await createTestIssuer();
const jwks = createServer((_q, s) => void s.end(JSON.stringify(issuer.jwks))).listen(18306, '127.0.0.1');
const token = await issuer.sign({ sub: 'bench', roles: ['customer'] }, { expiresIn: '1h' });
writeFileSync(
  join(dir, 'gateway.yaml'),
  `upstreams:\n  bench: { instances: [http://127.0.0.1:18301] }\nroutes:\n  - { name: p, path: /api, upstream: bench, auth: { default: token }, rateLimit: { limit: 100000000, window: 1m } }\n  - { name: c, path: /cached, upstream: bench, auth: { default: token }, rateLimit: { limit: 100000000, window: 1m }, cache: { ttl: 1m } }\n`,
);
try {
  const upstream = launch(process.execPath, [join(root, 'bench/gateway/upstream.ts')], { PORT: '18301' });
  await up('http://127.0.0.1:18301/');
  await measure('upstream (node:http)', upstream.pid!, 'http://127.0.0.1:18301/api/x');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; error_log ${dir}/e.log warn; pid ${dir}/n.pid; events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
upstream app { server 127.0.0.1:18301; keepalive 64; }
server { listen 127.0.0.1:18304; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }`,
  );
  const nginx = launch('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir]);
  await up('http://127.0.0.1:18304/api/x');
  const worker = Number(
    readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(' ')[0],
  );
  await measure('nginx (worker)', worker, 'http://127.0.0.1:18304/api/x');
  const fastify = launch(process.execPath, [join(root, 'bench/gateway/fastify-proxy.ts')], {
    PORT: '18302',
    UPSTREAM: 'http://127.0.0.1:18301',
  });
  await up('http://127.0.0.1:18302/api/x');
  await measure('@fastify/http-proxy', fastify.pid!, 'http://127.0.0.1:18302/api/x');
  const env = {
    GATEWAY_PORT: '18303',
    GATEWAY_FILE: join(dir, 'gateway.yaml'),
    GATEWAY_WATCH: 'false',
    LOG_LEVEL: 'warn',
    AUTH_JWKS_URI: 'http://127.0.0.1:18306/jwks',
    REDIS_URL: '',
  };
  const nodeArgs = process.env.GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof
  const gw = launch(process.execPath, [...nodeArgs, join(root, 'services/gateway/src/main.ts')], env);
  const auth = { authorization: `Bearer ${token}` };
  await up('http://127.0.0.1:18303/api/x', auth);
  await measure('gateway: JWT + rate limit', gw.pid!, 'http://127.0.0.1:18303/api/x', [
    `Authorization: Bearer ${token}`,
  ]);
  await measure('gateway: cache hit', gw.pid!, 'http://127.0.0.1:18303/cached/x', [
    `Authorization: Bearer ${token}`,
  ]);
  if (process.env.BENCH_HOT_PATH !== 'skip') {
    const viaFastify = launch(process.execPath, [join(root, 'services/gateway/src/main.ts')], {
      ...env,
      GATEWAY_PORT: '18305',
      GATEWAY_HOT_PATH: 'fastify',
    });
    await up('http://127.0.0.1:18305/api/x', auth);
    await measure('gateway via a Fastify route', viaFastify.pid!, 'http://127.0.0.1:18305/api/x', [
      `Authorization: Bearer ${token}`,
    ]);
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
  jwks.close();
}
