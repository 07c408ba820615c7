/** The store contract the gateway relies on, run against memory and the real Redis alike. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createMemoryStore, createRedisStore, EXACT_LIMIT, type KvStore } from '@portico/store/kv';
import { redisTestUrl } from '@portico/store/testing';

const redisUrl = redisTestUrl();
const backends: Array<[string, () => Promise<KvStore>]> = [['memory', async () => createMemoryStore()]];
if (redisUrl) {
  backends.push([
    'redis',
    async () => {
      const store = createRedisStore({ url: redisUrl, keyPrefix: `test:${randomBytes(6).toString('hex')}:` });
      assert.equal(await store.ready(2000), true);
      return store;
    },
  ]);
}

for (const [name, open] of backends) {
  describe(`kv store: ${name}`, () => {
    test('sliding window: concurrent hits admit exactly the limit, refused hits are not counted', async () => {
      const kv = await open();
      try {
        const decisions = await Promise.all(Array.from({ length: 25 }, () => kv.hit('k', 10, 60_000)));
        assert.equal(decisions.filter((d) => d.allowed).length, 10);
        const remaining = decisions
          .filter((d) => d.allowed)
          .map((d) => d.remaining)
          .sort((a, b) => a - b);
        assert.deepEqual(remaining, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        for (const refused of decisions.filter((d) => !d.allowed)) {
          assert.ok(refused.resetMs > 0 && refused.resetMs <= 60_000);
        }
        assert.equal((await kv.hit('other', 10, 60_000)).allowed, true, 'keys are independent');
      } finally {
        await kv.close();
      }
    });

    test(`above ${EXACT_LIMIT} per window: the O(1) sliding counter admits exactly the limit in a fresh window`, async () => {
      const kv = await open();
      try {
        const limit = EXACT_LIMIT + 500;
        const hour = 3_600_000;
        const before = Math.floor(Date.now() / hour);
        const decisions = await Promise.all(
          Array.from({ length: limit + 300 }, () => kv.hit('big', limit, hour)),
        );
        const admitted = decisions.filter((d) => d.allowed).length;
        if (Math.floor(Date.now() / hour) === before) assert.equal(admitted, limit);
        else assert.ok(admitted <= 2 * limit, 'crossed a window edge: the previous window still counts');
        assert.ok(decisions.filter((d) => !d.allowed).every((d) => d.remaining === 0 && d.resetMs > 0));
      } finally {
        await kv.close();
      }
    });

    test('tagged values: get, expiry, purge by tag', async () => {
      const kv = await open();
      try {
        await kv.set('a', Buffer.from('A'), 60_000, ['t1', 't2']);
        await kv.set('b', Buffer.from('B'), 60_000, ['t2']);
        await kv.set('c', Buffer.from('C'), 60_000, ['t3']);
        await kv.set('short', Buffer.from('S'), 30, []);
        assert.equal(String(await kv.get('a')), 'A');
        assert.equal(await kv.purge(['t2']), 2);
        assert.equal(await kv.get('a'), undefined);
        assert.equal(await kv.get('b'), undefined);
        assert.equal(String(await kv.get('c')), 'C');
        const deadline = Date.now() + 2000;
        while ((await kv.get('short')) !== undefined) assert.ok(Date.now() < deadline, 'expired');
      } finally {
        await kv.close();
      }
    });
  });
}

test('memory store: bounded by bytes, least recently used go first', async () => {
  const kv = createMemoryStore({ maxBytes: 3 * (1000 + 64 + 2) });
  try {
    const kb = Buffer.alloc(1000);
    await kv.set('1', kb, 60_000);
    await kv.set('2', kb, 60_000);
    await kv.set('3', kb, 60_000);
    assert.ok(await kv.get('1'), 'read: now the most recently used');
    await kv.set('4', kb, 60_000);
    assert.equal(await kv.get('2'), undefined, 'the least recently used went');
    assert.ok(await kv.get('1'));
    assert.ok(await kv.get('3'));
    assert.ok(await kv.get('4'));
  } finally {
    await kv.close();
  }
});
