/**
 * HAProxy in front of the replicas, standing in for a cluster's ingress and its Services:
 * one frontend per service on a loopback port, round robin over that service's replicas,
 * health checks on `/health`, and a connection that fails retried on the other replica.
 * `X-Portico-Replica: <name>` picks a replica, so a test can pin one request to it.
 * The runtime API (an admin socket) drains a replica before it is stopped and readmits it
 * once it is back, as a rolling restart does with a load balancer it controls.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface Backend {
  service: string;
  /** The port clients use. */
  port: number;
  servers: Array<{ name: string; port: number }>;
}

/** The HAProxy binary: on PATH or in /usr/sbin; installed from Debian when missing and we may. */
export function locateHaproxy(): string {
  const found = ['haproxy', '/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((bin) => {
    try {
      execFileSync(bin, ['-v'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (found) return found;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    execFileSync(
      'bash',
      ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy'],
      {
        stdio: 'ignore',
      },
    );
    return '/usr/sbin/haproxy';
  }
  throw new Error('HAProxy is not installed: apt-get install -y haproxy');
}

export function haproxyConfig(backends: Backend[], socket: string): string {
  const lines = [
    'global',
    '  maxconn 4096',
    `  stats socket ${socket} mode 600 level admin`,
    '',
    'defaults',
    '  mode http',
    '  option httplog',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    '  timeout http-keep-alive 10s',
    // A refused connection is retried on the other replica: the request never left, so this
    // is safe for every method. A GET is also retried when the replica dies mid-answer or
    // answers 502-504; anything else is never sent twice.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response junk-response response-timeout 502 503 504',
    '  option httpchk GET /health',
    // A replica that says it is draining (503), or refuses, is out after two checks half a
    // second apart: within SHUTDOWN_DELAY_MS, while it still serves. A generous check timeout:
    // on a busy machine a slow /health is not a dead replica, and with both replicas of a
    // service marked down for being slow every request would be refused.
    '  timeout check 10s',
    '  default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2',
    '',
  ];
  for (const { service, port, servers } of backends) {
    lines.push(
      `frontend ${service}`,
      `  bind 127.0.0.1:${port}`,
      `  default_backend ${service}`,
      '',
      `backend ${service}`,
      '  balance roundrobin',
      '  http-request disable-l7-retry if ! METH_GET',
      ...servers.map((s) => `  use-server ${s.name} if { req.hdr(x-portico-replica) -m str ${s.name} }`),
      ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface ServerStat {
  /** UP, DOWN, DRAIN, MAINT, … as HAProxy's checks and its runtime state say. */
  status: string;
  /** Requests it is serving now and requests queued for it. */
  sessions: number;
  queued: number;
}

/** What HAProxy did for one backend since it started: its retries and redispatches. */
export interface BackendStat {
  retries: number;
  redispatches: number;
}

export interface Haproxy {
  /** Server name → UP, DOWN, MAINT, … as HAProxy's checks see it. */
  status(): Promise<Map<string, string>>;
  servers(): Promise<Map<string, ServerStat>>;
  backends(): Promise<Map<string, BackendStat>>;
  /** No new request goes to the server (`set server … state drain`); those in flight finish. */
  drain(backend: string, server: string): Promise<void>;
  /** Back in the rotation once its health checks pass (`set server … state ready`). */
  ready(backend: string, server: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startHaproxy(
  dir: string,
  backends: Backend[],
  binary = locateHaproxy(),
): Promise<Haproxy> {
  const file = join(dir, 'haproxy.cfg');
  const socket = join(dir, 'haproxy.sock');
  writeFileSync(file, haproxyConfig(backends, socket));
  execFileSync(binary, ['-c', '-q', '-f', file]);
  const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ask = (command: string) =>
    new Promise<string>((resolve, reject) => {
      const conn = connect(socket);
      let out = '';
      conn.on('data', (chunk) => {
        out += chunk.toString();
      });
      conn.on('end', () => resolve(out));
      conn.on('error', reject);
      conn.end(`${command}\n`);
    });
  // A busy HAProxy may close its admin socket on us (EPIPE): ask again.
  const command = async (line: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ask(line);
      } catch (err) {
        if (attempt >= 5 || child.exitCode !== null) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  };
  /** `show stat` as rows keyed by its CSV header (`# pxname,svname,qcur,…`). */
  const stats = async () => {
    const [header = '', ...lines] = (await command('show stat')).split('\n');
    const names = header.replace(/^# /, '').split(',');
    return lines
      .filter((line) => line.includes(','))
      .map((line) => {
        const values = line.split(',');
        return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
      });
  };
  const setState = async (backend: string, server: string, state: 'drain' | 'ready') => {
    const answer = (await command(`set server ${backend}/${server} state ${state}`)).trim();
    if (answer) throw new Error(`HAProxy: set server ${backend}/${server} state ${state}: ${answer}`);
  };
  const haproxy: Haproxy = {
    async status() {
      const result = new Map<string, string>();
      for (const [name, stat] of await haproxy.servers()) result.set(name, stat.status);
      return result;
    },
    async servers() {
      const result = new Map<string, ServerStat>();
      for (const row of await stats()) {
        if (row.svname === 'FRONTEND' || row.svname === 'BACKEND' || !row.svname) continue;
        result.set(row.svname, {
          status: row.status ?? '',
          sessions: Number(row.scur),
          queued: Number(row.qcur),
        });
      }
      return result;
    },
    async backends() {
      const result = new Map<string, BackendStat>();
      for (const row of await stats())
        if (row.svname === 'BACKEND')
          result.set(row.pxname!, { retries: Number(row.wretr), redispatches: Number(row.wredis) });
      return result;
    },
    drain: (backend, server) => setState(backend, server, 'drain'),
    ready: (backend, server) => setState(backend, server, 'ready'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await haproxy.status();
      return haproxy;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`HAProxy did not start: ${errors || (err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
