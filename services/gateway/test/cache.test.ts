import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import { rawExchange } from '@portico/http/testing';
import { createMemoryStore, type KvStore } from '@portico/store/kv';
import { redisTestUrl } from '@portico/store/testing';
import { Redis } from 'ioredis';
import type { TestUpstream } from './support/harness.ts';
import { definition, json, metric, startGateway, startUpstream } from './support/harness.ts';

const redisUrl = redisTestUrl();

/** Counts GETs per path; `cache-control` per path prefix. */
async function countingUpstream() {
  let hits = 0;
  const up = await startUpstream((req, res, seen) => {
    if (req.method === 'GET') hits++;
    const path = req.url!;
    const cc = path.includes('nostore')
      ? 'no-store'
      : path.includes('private')
        ? 'private, max-age=60'
        : path.includes('short')
          ? 'max-age=1'
          : 'public, max-age=60';
    const body = JSON.stringify({ n: hits, url: seen.url, user: seen.headers['x-gateway-user-id'] ?? null });
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': cc,
      etag: `"${Buffer.from(path).toString('base64url')}"`,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  return { up, gets: () => hits };
}

function cached(up: TestUpstream) {
  return definition({ svc: [up.url] }, [
    {
      name: 'products',
      path: '/api/v1/products',
      upstream: 'svc',
      auth: { read: 'public', write: 'token' },
      cache: { ttl: '1m' },
    },
  ] as never);
}

describe('response cache', () => {
  let issuer: TestIssuer;
  before(async () => {
    issuer = await createTestIssuer();
  });

  test('with a rate limit, a cache hit reads the cache beside the limiter, not after its answer', async () => {
    const { up, gets } = await countingUpstream();
    // The store's calls in order; the limiter answers one event-loop turn late, as a Redis would.
    const events: string[] = [];
    const memory = createMemoryStore();
    const kv: KvStore = Object.assign(Object.create(memory) as KvStore, {
      // As a Redis: no decision at once.
      hitNow: undefined,
      hit: async (key: string, limit: number, windowMs: number) => {
        events.push('hit');
        const decision = await memory.hit(key, limit, windowMs);
        await new Promise((resolve) => setImmediate(resolve));
        events.push('hit answered');
        return decision;
      },
      get: (key: string) => {
        events.push('get');
        return memory.get(key);
      },
    });
    const def = cached(up);
    (def.routes[0] as { rateLimit?: unknown }).rateLimit = { limit: 2, window: '1m' };
    // The miss on one gateway, the hit on another sharing the store: it holds no copy of its own.
    const one = await startGateway(def, { verifier: issuer.verifier, kv });
    const gw = await startGateway(def, { verifier: issuer.verifier, kv });
    try {
      assert.equal((await fetch(`${one.url}/api/v1/products/7`)).headers.get('x-cache'), 'MISS');
      events.length = 0;
      const hit = await fetch(`${gw.url}/api/v1/products/7`);
      assert.equal(hit.headers.get('x-cache'), 'HIT');
      assert.deepEqual(events, ['get', 'hit', 'hit answered']);
      assert.equal(gets(), 1);
      // Refused by the limiter: 429, whatever the cache holds, and the early read is dropped.
      const refused = await fetch(`${gw.url}/api/v1/products/7`);
      assert.equal(refused.status, 429);
      await refused.arrayBuffer();
    } finally {
      await one.close();
      await gw.close();
      await up.close();
      await memory.close();
    }
  });

  test('a hit whose ETag the If-None-Match names is a 304, from the copy and from the store', async () => {
    const { up, gets } = await countingUpstream();
    const kv = createMemoryStore();
    const one = await startGateway(cached(up), { verifier: issuer.verifier, kv });
    const two = await startGateway(cached(up), { verifier: issuer.verifier, kv });
    try {
      const miss = await fetch(`${one.url}/api/v1/products/7`);
      const etag = miss.headers.get('etag')!;
      assert.ok(etag);
      await miss.arrayBuffer();
      // As a browser revalidates its copy; fetch() would add `Cache-Control: no-cache`, a refresh.
      const ask = (url: string, ifNoneMatch: string, method = 'GET') =>
        rawExchange(
          url,
          `${method} /api/v1/products/7 HTTP/1.1\r\nHost: a\r\nIf-None-Match: ${ifNoneMatch}\r\nConnection: close\r\n\r\n`,
        );
      for (const [url, tag, method] of [
        [one.url, etag, 'GET'],
        [one.url, `W/${etag}`, 'GET'],
        [one.url, `"other", ${etag}`, 'HEAD'],
        [two.url, etag, 'GET'],
      ] as const) {
        const res = await ask(url, tag, method);
        assert.equal(res.status, 304, `${tag} ${method}`);
        assert.equal(res.headers['x-cache'], 'HIT');
        assert.equal(res.headers.etag, etag);
        assert.equal(res.headers['cache-control'], 'public, max-age=60');
        assert.equal(res.headers['content-type'], undefined, 'a 304 says nothing of a body');
        assert.equal(res.body, '');
      }
      const other = await ask(one.url, '"other"');
      assert.equal(other.status, 200);
      assert.equal(other.headers['x-cache'], 'HIT');
      assert.equal(JSON.parse(other.body).n, 1);
      assert.equal(gets(), 1, 'the upstream was asked once');
    } finally {
      await one.close();
      await two.close();
      await up.close();
      await kv.close();
    }
  });

  test('without a rate limit, a cache hit makes no store call; a write still purges it', async () => {
    const { up, gets } = await countingUpstream();
    const calls: string[] = [];
    const memory = createMemoryStore();
    const kv: KvStore = Object.assign(Object.create(memory) as KvStore, {
      hit: (key: string, limit: number, windowMs: number) => {
        calls.push('hit');
        return memory.hit(key, limit, windowMs);
      },
      get: (key: string) => {
        calls.push('get');
        return memory.get(key);
      },
      set: (key: string, value: Buffer, ttlMs: number, tags?: string[]) => {
        calls.push('set');
        return memory.set(key, value, ttlMs, tags);
      },
      purge: (tags: string[]) => {
        calls.push('purge');
        return memory.purge(tags);
      },
    });
    const gw = await startGateway(cached(up), { verifier: issuer.verifier, kv });
    try {
      const miss = await fetch(`${gw.url}/api/v1/products/7`);
      assert.equal(miss.headers.get('x-cache'), 'MISS');
      const body = await json(miss);
      assert.deepEqual(calls, ['get', 'set']);
      calls.length = 0;
      for (const method of ['GET', 'HEAD']) {
        const hit = await fetch(`${gw.url}/api/v1/products/7`, { method });
        assert.equal(hit.headers.get('x-cache'), 'HIT', method);
        if (method === 'GET') assert.deepEqual(await json(hit), body);
        else await hit.arrayBuffer();
      }
      assert.deepEqual(calls, [], 'answered from the gateway’s own copy: no store call');
      assert.equal(gets(), 1);
      const token = { authorization: `Bearer ${await issuer.sign({ sub: 'admin' })}` };
      const put = await fetch(`${gw.url}/api/v1/products/7`, { method: 'PUT', headers: token, body: '{}' });
      await put.arrayBuffer();
      // (A first sight of a token also reads the failed-authentication block: `get`.)
      assert.equal(calls.filter((call) => call !== 'get').join(), 'purge');
      assert.equal((await fetch(`${gw.url}/api/v1/products/7`)).headers.get('x-cache'), 'MISS');
      assert.equal(gets(), 2);
    } finally {
      await gw.close();
      await up.close();
      await memory.close();
    }
  });

  test('memory: a 200 GET is stored; HIT carries Age and X-Cache; query order does not matter', async () => {
    const { up, gets } = await countingUpstream();
    const gw = await startGateway(cached(up), { verifier: issuer.verifier });
    try {
      const first = await fetch(`${gw.url}/api/v1/products?b=2&a=1`);
      assert.equal(first.headers.get('x-cache'), 'MISS');
      const firstBody = await json(first);
      const second = await fetch(`${gw.url}/api/v1/products?a=1&b=2`);
      assert.equal(second.headers.get('x-cache'), 'HIT');
      assert.match(second.headers.get('age')!, /^\d+$/);
      assert.deepEqual(await json(second), firstBody);
      const head = await fetch(`${gw.url}/api/v1/products?a=1&b=2`, { method: 'HEAD' });
      assert.equal(head.headers.get('x-cache'), 'HIT');
      assert.equal(gets(), 1);
      const other = await fetch(`${gw.url}/api/v1/products?a=1&b=3`);
      assert.equal(other.headers.get('x-cache'), 'MISS');
      assert.equal(gets(), 2);
      const metrics = await (await fetch(`${gw.operatorUrl}/metrics`)).text();
      assert.equal(metric(metrics, 'gateway_cache_lookups_total', { route: 'products', result: 'hit' }), 2);
    } finally {
      await gw.close();
      await up.close();
    }
  });

  test('no-store and private are never stored; a client no-cache goes upstream', async () => {
    const { up, gets } = await countingUpstream();
    const gw = await startGateway(cached(up));
    try {
      for (const path of ['/api/v1/products/nostore', '/api/v1/products/private']) {
        await (await fetch(`${gw.url}${path}`)).arrayBuffer();
        const again = await fetch(`${gw.url}${path}`);
        assert.equal(again.headers.get('x-cache'), 'BYPASS', path);
      }
      assert.equal(gets(), 4);
      await (await fetch(`${gw.url}/api/v1/products/1`)).arrayBuffer();
      const forced = await fetch(`${gw.url}/api/v1/products/1`, { headers: { 'cache-control': 'no-cache' } });
      assert.equal(forced.headers.get('x-cache'), 'MISS');
      assert.equal(gets(), 6);
    } finally {
      await gw.close();
      await up.close();
    }
  });

  test('authenticated callers get their own entries', async () => {
    const { up } = await countingUpstream();
    const gw = await startGateway(cached(up), { verifier: issuer.verifier });
    try {
      const alice = { authorization: `Bearer ${await issuer.sign({ sub: 'alice' })}` };
      const bob = { authorization: `Bearer ${await issuer.sign({ sub: 'bob' })}` };
      assert.equal(
        (await json(await fetch(`${gw.url}/api/v1/products/me`, { headers: alice }))).user,
        'alice',
      );
      const bobs = await fetch(`${gw.url}/api/v1/products/me`, { headers: bob });
      assert.equal(bobs.headers.get('x-cache'), 'MISS');
      assert.equal((await json(bobs)).user, 'bob');
      const anonymous = await fetch(`${gw.url}/api/v1/products/me`);
      assert.equal(anonymous.headers.get('x-cache'), 'MISS');
      assert.equal((await json(anonymous)).user, null);
      const alices = await fetch(`${gw.url}/api/v1/products/me`, { headers: alice });
      assert.equal(alices.headers.get('x-cache'), 'HIT');
      assert.equal((await json(alices)).user, 'alice');
    } finally {
      await gw.close();
      await up.close();
    }
  });

  test('a write through the gateway purges the resource and its collection', async () => {
    const { up, gets } = await countingUpstream();
    const gw = await startGateway(cached(up), { verifier: issuer.verifier });
    try {
      const token = { authorization: `Bearer ${await issuer.sign({ sub: 'admin', roles: ['admin'] })}` };
      await (await fetch(`${gw.url}/api/v1/products/7`)).arrayBuffer();
      await (await fetch(`${gw.url}/api/v1/products?page=1`)).arrayBuffer();
      await (await fetch(`${gw.url}/api/v1/products/8`)).arrayBuffer();
      assert.equal((await fetch(`${gw.url}/api/v1/products/7`)).headers.get('x-cache'), 'HIT');
      assert.equal(gets(), 3);
      const put = await fetch(`${gw.url}/api/v1/products/7`, { method: 'PUT', headers: token, body: '{}' });
      assert.equal(put.status, 200);
      assert.equal((await fetch(`${gw.url}/api/v1/products/7`)).headers.get('x-cache'), 'MISS');
      assert.equal((await fetch(`${gw.url}/api/v1/products?page=1`)).headers.get('x-cache'), 'MISS');
      assert.equal(
        (await fetch(`${gw.url}/api/v1/products/8`)).headers.get('x-cache'),
        'HIT',
        'siblings stay',
      );
    } finally {
      await gw.close();
      await up.close();
    }
  });

  test('Redis: two gateways share one cache, and a write on one purges for both', {
    skip: !redisUrl,
  }, async () => {
    const { up, gets } = await countingUpstream();
    const config = { redisUrl: redisUrl!, redisKeyPrefix: `test:${randomBytes(6).toString('hex')}:` };
    const one = await startGateway(cached(up), { verifier: issuer.verifier, config });
    const two = await startGateway(cached(up), { verifier: issuer.verifier, config });
    try {
      const miss = await fetch(`${one.url}/api/v1/products/42`);
      assert.equal(miss.headers.get('x-cache'), 'MISS');
      const body = await json(miss);
      const hit = await fetch(`${two.url}/api/v1/products/42`);
      assert.equal(hit.headers.get('x-cache'), 'HIT');
      assert.deepEqual(await json(hit), body);
      assert.equal(gets(), 1);
      // Now both hold a copy: hits on either send Redis nothing (no limit to update on this route).
      const admin = new Redis(redisUrl!);
      const monitor = await admin.monitor();
      const commands: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args.some((arg) => arg.startsWith(config.redisKeyPrefix))) commands.push(args[0]!);
      });
      try {
        for (const gw of [one, two, one]) {
          const again = await fetch(`${gw.url}/api/v1/products/42`);
          assert.equal(again.headers.get('x-cache'), 'HIT');
          assert.deepEqual(await json(again), body);
        }
        // A command of ours that MONITOR would show comes after the hits: it proves the wait long enough.
        const probe = new Redis(redisUrl!);
        await probe.get(`${config.redisKeyPrefix}probe`);
        probe.disconnect();
        const deadline = Date.now() + 5000;
        while (!commands.includes('get') && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(commands, ['get'], 'only the probe reached Redis');
      } finally {
        monitor.disconnect();
        admin.disconnect();
      }
      const token = { authorization: `Bearer ${await issuer.sign({ sub: 'admin' })}` };
      await (
        await fetch(`${two.url}/api/v1/products/42`, { method: 'PATCH', headers: token, body: '{}' })
      ).arrayBuffer();
      // The purge reaches the other gateway over Redis pub/sub, after the write's answer: its copy
      // goes when the message arrives (a lost one is bounded by the copies' 1 s), not before.
      const deadline = Date.now() + 5000;
      let after = '';
      while (after !== 'MISS' && Date.now() < deadline) {
        const res = await fetch(`${one.url}/api/v1/products/42`);
        after = res.headers.get('x-cache')!;
        await res.arrayBuffer();
        if (after !== 'MISS') await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(after, 'MISS', 'the write on the other gateway purged this one');
      assert.equal(gets(), 2);
    } finally {
      await one.close();
      await two.close();
      await up.close();
    }
  });

  test('Redis unreachable: reads still answer, uncached', async () => {
    const { up, gets } = await countingUpstream();
    const gw = await startGateway(cached(up), { config: { redisUrl: 'redis://127.0.0.1:1' } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${gw.url}/api/v1/products/1`)).status, 200);
      assert.equal(gets(), 3);
      const metrics = await (await fetch(`${gw.operatorUrl}/metrics`)).text();
      assert.equal(metric(metrics, 'gateway_store_errors_total', { operation: 'cache-get' }), 3);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
