/**
 * A Redis that stops answering is found once and skipped; a burst is not an outage.
 * Against a redis-server of the test's own, so it can be paused (SIGSTOP).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRedisStore, EXACT_LIMIT, type KvStore } from '../src/kv/index.ts';
import { type OwnRedis, startOwnRedis } from '../src/testing.ts';

let redis: OwnRedis;
before(async () => {
  redis = await startOwnRedis();
});
after(async () => {
  await redis.stop();
});

async function open(commandTimeoutMs: number): Promise<KvStore> {
  const kv = createRedisStore({
    url: redis.url,
    keyPrefix: `t${Math.random().toString(36).slice(2)}:`,
    commandTimeoutMs,
  });
  assert.equal(await kv.ready(5000), true);
  return kv;
}

test('a burst queued on one connection is not an outage: every hit is decided', async () => {
  // 6,000 scripts take Redis far longer than 50 ms: a timeout per queued command failed the last ones.
  const kv = await open(50);
  try {
    const limit = EXACT_LIMIT + 4000;
    const decisions = await Promise.allSettled(
      Array.from({ length: 6000 }, () => kv.hit('burst', limit, 3_600_000)),
    );
    const failed = decisions.filter((d) => d.status === 'rejected');
    assert.equal(
      failed.length,
      0,
      `${failed.length} failed: ${(failed[0] as PromiseRejectedResult | undefined)?.reason}`,
    );
    assert.equal(kv.available, true);
  } finally {
    await kv.close();
  }
});

test('a frozen Redis is found once: the first commands wait one budget, the rest fail at once; a probe re-admits it', async () => {
  const kv = await open(250);
  try {
    await kv.hit('k', 10, 60_000);
    redis.pause();
    const t0 = performance.now();
    const first = await Promise.allSettled([
      kv.hit('k', 10, 60_000),
      kv.get('c'),
      kv.set('c', Buffer.from('x'), 1000),
    ]);
    const firstMs = performance.now() - t0;
    assert.ok(first.every((r) => r.status === 'rejected'));
    assert.ok(firstMs < 1000, `the first commands waited ${Math.round(firstMs)} ms`);
    assert.equal(kv.available, false);
    const t1 = performance.now();
    for (let i = 0; i < 50; i++)
      await assert.rejects(kv.hit('k', 10, 60_000), { code: 'STORE_UNRESPONSIVE' });
    const rest = (performance.now() - t1) / 50;
    assert.ok(rest < 10, `later commands took ${rest.toFixed(2)} ms each`);
    console.log(
      `[faults] frozen redis: first round trip failed after ${Math.round(firstMs)} ms, then ${rest.toFixed(3)} ms per command`,
    );

    redis.resume();
    const t2 = performance.now();
    const deadline = Date.now() + 10_000;
    while (!kv.available) {
      assert.ok(Date.now() < deadline, 'the store was not re-admitted');
      await kv.hit('k', 10, 60_000).catch(() => {});
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`[faults] frozen redis: re-admitted ${Math.round(performance.now() - t2)} ms after SIGCONT`);
    assert.equal((await kv.hit('k', 10, 60_000)).allowed, true);
  } finally {
    redis.resume();
    await kv.close();
  }
});
