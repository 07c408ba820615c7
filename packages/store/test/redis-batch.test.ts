/**
 * The Redis store sends the rate-limit hits and cache reads of one event-loop turn together:
 * one script call and one MGET for a burst of requests, each still decided on its own.
 * Against a redis-server of the test's own, so its command counts are this test's alone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisStore, EXACT_LIMIT } from '../src/kv/index.ts';
import { type OwnRedis, startOwnRedis } from '../src/testing.ts';

let redis: OwnRedis;
let admin: Redis;
before(async () => {
  redis = await startOwnRedis();
  admin = new Redis(redis.url);
});
after(async () => {
  admin.disconnect();
  await redis.stop();
});

/** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
async function calls(): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

test('hits and reads made in one turn are one script call and one MGET, each answered on its own', async () => {
  const kv = createRedisStore({ url: redis.url, keyPrefix: 'batch:' });
  try {
    assert.equal(await kv.ready(5000), true);
    await kv.set('a', Buffer.from('first'), 60_000);
    await kv.set('b', Buffer.from('second'), 60_000);
    await admin.config('RESETSTAT');
    const [small, big, values] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, () => kv.hit('small', 10, 60_000))),
      Promise.all(Array.from({ length: 30 }, () => kv.hit('big', EXACT_LIMIT + 5, 3_600_000))),
      Promise.all(['a', 'missing', 'b'].map((key) => kv.get(key))),
    ]);
    const stats = await calls();
    assert.equal((stats.evalsha ?? 0) + (stats.eval ?? 0), 1, JSON.stringify(stats));
    assert.equal(stats.mget, 1, JSON.stringify(stats));

    assert.equal(small.filter((d) => d.allowed).length, 10, 'the log admits exactly its limit');
    assert.deepEqual(
      small.filter((d) => d.allowed).map((d) => d.remaining),
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
      'hits in one call are decided in the order they were made',
    );
    assert.ok(small.filter((d) => !d.allowed).every((d) => d.remaining === 0 && d.resetMs > 0));
    assert.equal(big.filter((d) => d.allowed).length, 30, 'the counter keeps its own limit');
    assert.deepEqual(
      values.map((v) => v?.toString()),
      ['first', undefined, 'second'],
    );
  } finally {
    await kv.close();
  }
});

test('a batch fails as a whole when Redis refuses it, and the next one is sent anew', async () => {
  const kv = createRedisStore({ url: redis.url, keyPrefix: 'batch2:' });
  try {
    assert.equal(await kv.ready(5000), true);
    // A key of the wrong type makes the script fail: every hit of that call sees the error.
    await admin.set('batch2:rl:wrong', 'not a sorted set');
    const settled = await Promise.allSettled([kv.hit('wrong', 5, 60_000), kv.hit('fine', 5, 60_000)]);
    assert.ok(settled.every((s) => s.status === 'rejected'));
    const next = await kv.hit('fine', 5, 60_000);
    assert.equal(next.allowed, true);
    assert.equal(next.remaining, 4, 'the failed call recorded nothing');
  } finally {
    await kv.close();
  }
});
