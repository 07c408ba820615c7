import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import {
  createMemoryPubSub,
  createRedisPubSub,
  iterate,
  type PubSub,
  subscribeDurably,
} from '../src/pubsub/index.ts';
import { redisTestUrl, startOwnRedis } from '../src/testing.ts';

const redisUrl = redisTestUrl();
const kinds: Array<[string, () => PubSub]> = [['memory', () => createMemoryPubSub()]];
if (redisUrl) {
  kinds.push([
    'redis',
    () => createRedisPubSub({ url: redisUrl, keyPrefix: `t${randomBytes(6).toString('hex')}:` }),
  ]);
}

for (const [kind, make] of kinds) {
  describe(`pub/sub (${kind})`, () => {
    test('delivers JSON copies, in order, to every listener of the channel only', async () => {
      const pubsub = make();
      try {
        const a: unknown[] = [];
        const b: unknown[] = [];
        const other: unknown[] = [];
        let done: () => void;
        const finished = new Promise<void>((resolve) => {
          done = resolve;
        });
        await pubsub.subscribe('products', (m) => a.push(m));
        await pubsub.subscribe('products', (m) => {
          b.push(m);
          if (b.length === 3) done();
        });
        await pubsub.subscribe('orders', (m) => other.push(m));
        assert.equal(pubsub.listenerCount('products'), 2);
        const sent = { id: 1, tags: ['x'] };
        await pubsub.publish('products', sent);
        await pubsub.publish('products', { id: 2 });
        await pubsub.publish('products', { id: 3 });
        await finished;
        assert.deepEqual(b, [{ id: 1, tags: ['x'] }, { id: 2 }, { id: 3 }]);
        assert.deepEqual(a, b);
        assert.notEqual(a[0], sent, 'a copy, not the publisher’s object');
        assert.notEqual(a[0], b[0], 'each listener its own copy');
        assert.deepEqual(other, []);
      } finally {
        await pubsub.close();
      }
    });

    test('unsubscribing stops delivery and the count drops', async () => {
      const pubsub = make();
      try {
        const seen: unknown[] = [];
        const stop = await pubsub.subscribe('c', (m) => seen.push(m));
        await stop();
        // A second listener on the same channel: once it has the message, `seen` would have it too.
        let received: (m: unknown) => void;
        const witness = new Promise((resolve) => {
          received = resolve;
        });
        await pubsub.subscribe('c', (m) => received(m));
        assert.equal(pubsub.listenerCount('c'), 1);
        await pubsub.publish('c', 'after');
        assert.equal(await witness, 'after');
        assert.deepEqual(seen, []);
      } finally {
        await pubsub.close();
      }
    });

    test('iterate: a live async iterator with a filter; return() unsubscribes', async () => {
      const pubsub = make();
      try {
        const events = await iterate<{ n: number }>(pubsub, 'n', { filter: (m) => m.n % 2 === 0 });
        assert.equal(pubsub.listenerCount('n'), 1);
        for (let n = 1; n <= 4; n++) await pubsub.publish('n', { n });
        assert.deepEqual((await events.next()).value, { n: 2 });
        assert.deepEqual((await events.next()).value, { n: 4 });
        await events.return!();
        assert.equal(pubsub.listenerCount('n'), 0);
        assert.equal((await events.next()).done, true);
      } finally {
        await pubsub.close();
      }
    });
  });
}

describe('a durable subscription', { skip: !redisUrl && 'needs redis-server (TEST_REDIS_URL)' }, () => {
  test('a Redis that does not answer fails the first try; the subscription goes live once it answers', async () => {
    const redis = await startOwnRedis();
    const keyPrefix = `d${randomBytes(6).toString('hex')}:`;
    const subscriber = createRedisPubSub({ url: redis.url, keyPrefix, silenceMs: 300 });
    const publisher = createRedisPubSub({ url: redis.url, keyPrefix });
    try {
      // Connected first, then frozen: SUBSCRIBE is written and never answered.
      await publisher.publish('warmup', 1);
      redis.pause();
      const errors: Error[] = [];
      const received: unknown[] = [];
      const durable = subscribeDurably(subscriber, 'products', (m) => received.push(m), {
        onError: (err) => errors.push(err),
        maxDelayMs: 200,
      });
      while (errors.length === 0) await setTimeout(50);
      assert.equal(durable.live, false);
      assert.equal((errors[0] as Error & { code?: string }).code, 'STORE_UNRESPONSIVE');
      redis.resume();
      await durable.ready;
      assert.equal(durable.live, true);
      await publisher.publish('products', { id: 1 });
      while (received.length === 0) await setTimeout(20);
      assert.deepEqual(received, [{ id: 1 }]);
      await durable.stop();
      assert.equal(subscriber.listenerCount('products'), 0);
    } finally {
      redis.resume();
      await subscriber.close();
      await publisher.close();
      await redis.stop();
    }
  });

  test('stopped before it is live, it stops trying', async () => {
    const pubsub = createRedisPubSub({ url: 'redis://127.0.0.1:1', keyPrefix: 'never:' });
    let tries = 0;
    const counting: PubSub = {
      ...pubsub,
      subscribe: (...args) => {
        tries++;
        return pubsub.subscribe(...args);
      },
    };
    const durable = subscribeDurably(counting, 'products', () => {}, { maxDelayMs: 50 });
    while (tries < 2) await setTimeout(20);
    await durable.stop();
    const after = tries;
    await setTimeout(200);
    assert.equal(tries, after);
    assert.equal(durable.live, false);
    await pubsub.close();
  });
});
