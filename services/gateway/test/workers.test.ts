/**
 * `workers`: several gateway processes on one port share their limits through Redis.
 * Runs main.ts as the operator would, in processes of its own.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { redisTestUrl } from '@portico/store/testing';
import { Redis } from 'ioredis';
import { startUpstream, type TestUpstream } from './support/harness.ts';

const redisUrl = redisTestUrl();
const main = new URL('../src/main.ts', import.meta.url).pathname;

function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      GATEWAY_PORT: '0',
      GATEWAY_OPERATOR_PORT: '0',
      GATEWAY_WATCH: 'false',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { child, output: () => text };
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One request on a connection of its own, so the primary hands each to the next worker. */
function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

describe('workers', () => {
  let up: TestUpstream;
  let file: string;
  before(async () => {
    up = await startUpstream();
    file = join(mkdtempSync(join(tmpdir(), 'portico-workers-')), 'gateway.yaml');
    writeFileSync(
      file,
      `upstreams:
  svc: { instances: ['${up.url}'] }
routes:
  - name: limited
    path: /api/v1/limited
    upstream: svc
    auth: { default: public }
    rateLimit: { limit: 6, window: 1m }
`,
    );
  });
  after(() => up.close());

  test('two workers on one port enforce one limit of N through Redis, not N each; a dead worker is replaced', {
    skip: !redisUrl,
    timeout: 120_000,
  }, async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const { child, output } = start({
      GATEWAY_WORKERS: '2',
      GATEWAY_FILE: file,
      REDIS_URL: redisUrl!,
      GATEWAY_REDIS_PREFIX: prefix,
    });
    const admin = new Redis(redisUrl!);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const ports = await until('both workers listening', () => {
        const found = [...output().matchAll(/"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/g)];
        return found.length >= 2 ? found.map((m) => Number(m[1])) : undefined;
      });
      assert.equal(new Set(ports).size, 1, 'the workers share one port');
      const url = `http://127.0.0.1:${ports[0]}/api/v1/limited`;

      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) statuses.push(await status(url));
      assert.equal(statuses.filter((s) => s === 200).length, 6, `statuses: ${statuses.join(' ')}`);
      assert.equal(statuses.filter((s) => s === 429).length, 10);

      // Each worker's store connection is named after its process: both decided requests.
      const name = `-${prefix.replace(/[^A-Za-z0-9_-]/g, '')}`;
      const clients = String(await admin.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes(name));
      const pids = new Set(clients.map((line) => /name=portico-gateway-(\d+)-/.exec(line)?.[1]));
      assert.equal(pids.size, 2, `store connections: ${clients.join('\n')}`);
      assert.ok(
        clients.every((line) => /cmd=eval/.test(line)),
        `every worker ran the limiter: ${clients.join('\n')}`,
      );
      assert.ok(!pids.has(String(child.pid)), 'the primary serves no requests');

      // A worker that dies is replaced, and the limit it counted is still the gateway's.
      process.kill(Number([...pids][0]), 'SIGKILL');
      await until('a replacement worker listening', () =>
        [...output().matchAll(/"msg":"Server listening at /g)].length >= 3 ? true : undefined,
      );
      assert.equal(await status(url), 429);

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      for (const pid of pids) {
        assert.throws(() => process.kill(Number(pid), 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      admin.disconnect();
    }
  });

  test('more than one worker without Redis is refused at start, naming the key', async () => {
    const { child, output } = start({ GATEWAY_WORKERS: '3', GATEWAY_FILE: file, REDIS_URL: '' });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(output(), /workers is 3, which needs redisUrl \(REDIS_URL\)/);
  });
});
