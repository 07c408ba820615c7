/**
 * HAProxy in front of the replicas, standing in for a cluster's ingress and its Services:
 * one frontend per service on a loopback port, round robin over that service's replicas,
 * health checks on `/health`, and a connection that fails retried on the other replica.
 * `X-Portico-Replica: <name>` picks a replica, so a test can pin one request to it.
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
    // Generous check timeouts: on a busy machine a slow /health is not a dead replica.
    '  timeout check 3s',
    '  default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2',
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

export interface Haproxy {
  /** Server name → UP, DOWN, MAINT, … as HAProxy's checks see it. */
  status(): Promise<Map<string, string>>;
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
  const haproxy: Haproxy = {
    async status() {
      // A busy HAProxy may close its admin socket on us (EPIPE): ask again.
      let csv = '';
      for (let attempt = 1; ; attempt++) {
        try {
          csv = await ask('show stat');
          break;
        } catch (err) {
          if (attempt >= 5 || child.exitCode !== null) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }
      const result = new Map<string, string>();
      for (const line of csv.split('\n').slice(1)) {
        const [, server, , , , , , , , , , , , , , , , status] = line.split(',');
        if (server && server !== 'FRONTEND' && server !== 'BACKEND') result.set(server, status!);
      }
      return result;
    },
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
