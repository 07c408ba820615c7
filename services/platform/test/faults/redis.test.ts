/**
 * The gateway's Redis frozen (SIGSTOP), then killed, under traffic through a real gateway
 * process whose route uses the rate limiter and the cache. Before: every request waited three
 * 250 ms command timeouts in a row (p50 752 ms). Now the silence is found once and the store
 * is skipped: at most one short budget per request while it is detected, then none.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type OwnRedis, startOwnRedis } from '@portico/store/testing';
import { type Proc, scratch, startService, stopAll, waitFor } from './procs.ts';

let redis: OwnRedis;
let gateway: Proc;
let dir: Awaited<ReturnType<typeof scratch>>;
const upstream = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' });
  res.end('{"ok":true}');
});

before(async () => {
  redis = await startOwnRedis();
  dir = await scratch();
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  const file = await dir.file('gateway.json', {
    upstreams: { svc: { instances: [`http://127.0.0.1:${port}`] } },
    routes: [
      {
        name: 'r',
        path: '/r',
        upstream: 'svc',
        auth: { default: 'public' },
        rateLimit: { limit: 100_000, window: '1m' },
        cache: { ttl: '1s' },
      },
    ],
  });
  gateway = await startService('gateway', {
    GATEWAY_FILE: file,
    GATEWAY_WATCH: 'false',
    REDIS_URL: redis.url,
  });
  await waitFor('the gateway to use redis', async () => {
    const res = await fetch(`${gateway.url}/r`);
    await res.arrayBuffer();
    return res.headers.get('ratelimit') !== null;
  });
});

after(async () => {
  await stopAll();
  await redis.stop();
  await new Promise((resolve) => upstream.close(resolve));
  await dir.remove();
});

async function drive(count: number): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${gateway.url}/r?i=${i}`);
    await res.arrayBuffer();
    if (res.status !== 200) failed++;
    ms.push(performance.now() - t0);
  }
  return { ms: ms.sort((a, b) => a - b), failed };
}

test('a frozen Redis costs one short budget once, not ~750 ms per request; a killed one costs nothing', async () => {
  redis.pause();
  const frozen = await drive(60);
  const p50 = frozen.ms[Math.floor(frozen.ms.length / 2)]!;
  const worst = frozen.ms.at(-1)!;
  const slow = frozen.ms.filter((ms) => ms > 200).length;
  // /health is shared by callers for a second: ask until an answer checked after the freeze comes.
  let body = { store: { status: '', response_time_ms: 0 } };
  await waitFor('/health to see the frozen store', async () => {
    const health = await fetch(`${gateway.operatorUrl}/health`);
    body = (await health.json()) as typeof body;
    return body.store.status === 'unhealthy';
  });
  redis.resume();
  console.log(
    `[faults] frozen redis through the gateway: ${frozen.failed} failed of 60; p50 ${p50.toFixed(1)} ms, worst ${worst.toFixed(0)} ms, ${slow} over 200 ms; /health store ${body.store.status} in ${body.store.response_time_ms} ms`,
  );
  assert.equal(frozen.failed, 0);
  assert.ok(p50 < 100, `p50 ${p50} ms`);
  assert.ok(slow <= 3, `${slow} requests over 200 ms`);
  assert.ok(body.store.response_time_ms < 100);

  await waitFor('redis to be used again', async () => {
    const res = await fetch(`${gateway.url}/r`);
    await res.arrayBuffer();
    return res.headers.get('ratelimit') !== null;
  });
  await redis.stop();
  const killed = await drive(30);
  console.log(
    `[faults] killed redis: ${killed.failed} failed of 30; worst ${killed.ms.at(-1)!.toFixed(0)} ms`,
  );
  assert.equal(killed.failed, 0);
});
