/**
 * The session store on SQLite and PostgreSQL: sealed data, lookups by the cookie value only,
 * expiry, sweeping, and a touch that never undoes a concurrent save.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Database, openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { migrations } from '../migrations/index.ts';
import type { WebDatabase } from '../src/data/schema.ts';
import { type SessionStore, sqlSessionStore } from '../src/session/store.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`session store (${target.name})`, () => {
    let database: Database<WebDatabase>;
    let store: SessionStore;

    before(async () => {
      database = openDatabase<WebDatabase>({ url: target.url, schema: target.schema });
      await database.migrate(migrations);
      store = sqlSessionStore(database);
    });
    after(async () => {
      await database?.close();
      await target.cleanup();
    });

    test('a session reads back by its cookie value, and by nothing else', async () => {
      const session = await store.create(
        { csrf: 'c', user: { sub: 'u1', roles: ['customer'] } },
        Date.now() + 60_000,
      );
      assert.match(session.id, /^[A-Za-z0-9_-]{43}$/);
      const read = await store.get(session.id);
      assert.deepEqual(read?.data, { csrf: 'c', user: { sub: 'u1', roles: ['customer'] } });
      const flipped = `${session.id.startsWith('A') ? 'B' : 'A'}${session.id.slice(1)}`;
      assert.equal(await store.get(flipped), undefined);
      // The same 256 bits spelt differently (the last character carries 2 spare bits) are no good either.
      const last = session.id.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
      assert.equal(await store.get(`${session.id.slice(0, -1)}${sibling}`), undefined);
      assert.equal(await store.get('short'), undefined);
      const rows = await database.db.selectFrom('sessions').select(['id', 'data']).execute();
      for (const row of rows) {
        assert.notEqual(row.id, session.id);
        assert.ok(!Buffer.from(row.data, 'base64url').includes('customer'), 'the data is sealed');
      }
    });

    test('a touch moves the expiry and keeps what another request saved meanwhile', async () => {
      const session = await store.create({ csrf: 'c' }, Date.now() + 60_000);
      const stale = (await store.get(session.id))!;
      const fresh = (await store.get(session.id))!;
      fresh.data.tokens = { accessToken: 'new', expiresAt: Date.now() + 1000 };
      await store.save(fresh);
      stale.expiresAt = Date.now() + 120_000;
      await store.touch(stale);
      const now = (await store.get(session.id))!;
      assert.equal(now.data.tokens?.accessToken, 'new');
      assert.ok(Math.abs(now.expiresAt - stale.expiresAt) < 5);
    });

    test('expired sessions read as none and are swept', async () => {
      const gone = await store.create({ csrf: 'c' }, Date.now() - 1);
      const kept = await store.create({ csrf: 'c' }, Date.now() + 60_000);
      assert.equal(await store.get(gone.id), undefined);
      assert.ok((await store.sweep()) >= 1);
      assert.ok(await store.get(kept.id));
      await store.destroy(kept.id);
      assert.equal(await store.get(kept.id), undefined);
    });
  });
}
