import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestIssuer } from '@portico/auth/testing';
import { databaseTargets } from '@portico/store/testing';
import { createReadCache } from '../src/api/read-cache.ts';
import { buildCatalog } from './support/harness.ts';

describe('read cache', () => {
  test('entries expire, the oldest is evicted when full, clear empties it, ttl 0 disables it', async () => {
    const cache = createReadCache({ ttlMs: 30, maxEntries: 2 });
    cache.set('a', '"1"', Buffer.from('A'));
    cache.set('b', '"2"', Buffer.from('B'));
    cache.set('c', '"3"', Buffer.from('C'));
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('c')?.body.toString(), 'C');
    await sleep(40);
    assert.equal(cache.get('c'), undefined);
    cache.set('d', '"4"', Buffer.from('D'));
    cache.clear();
    assert.equal(cache.get('d'), undefined);
    const off = createReadCache({ ttlMs: 0 });
    off.set('a', '"1"', Buffer.from('A'));
    assert.equal(off.get('a'), undefined);
  });

  const [, makePostgres] = databaseTargets();
  const shared = makePostgres ? makePostgres() : undefined;
  test('two instances on one database: the writer sees its write at once, the other within the TTL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-cache-'));
    const target = shared ?? {
      name: 'sqlite' as const,
      url: `sqlite:${join(dir, 'catalog.db')}`,
      cleanup: async () => {},
    };
    const issuer = await createTestIssuer();
    const a = await buildCatalog({ ...target, cleanup: async () => {} }, { readCacheTtlMs: 300, issuer });
    const b = await buildCatalog(target, { readCacheTtlMs: 300, issuer });
    try {
      const id = (await a.server.inject({ url: '/api/v1/products' })).json().data[0].id;
      const url = `/api/v1/products/${id}`;
      const before = await b.server.inject({ url });
      const again = await b.server.inject({ url });
      assert.equal(again.body, before.body, 'a cache hit answers the same body');
      assert.equal(again.headers.etag, before.headers.etag);
      assert.equal(
        (await b.server.inject({ url, headers: { 'if-none-match': String(before.headers.etag) } }))
          .statusCode,
        304,
      );

      const patched = await a.server.inject({
        method: 'PATCH',
        url,
        payload: { price: 77.7 },
        headers: a.admin,
      });
      assert.equal(patched.statusCode, 200);
      assert.equal(
        (await a.server.inject({ url })).json().data.price,
        77.7,
        'the writer reads its own write',
      );
      const started = Date.now();
      let seen = (await b.server.inject({ url })).json().data.price;
      while (seen !== 77.7 && Date.now() - started < 2000) {
        await sleep(25);
        seen = (await b.server.inject({ url })).json().data.price;
      }
      assert.equal(seen, 77.7);
      assert.ok(Date.now() - started <= 1000, 'the other instance caught up within the TTL');
    } finally {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
