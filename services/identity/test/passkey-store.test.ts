/**
 * The passkey store's atomic rules on both databases: a challenge is taken once (of concurrent
 * takes, one wins) and not after it expired; a counter moves only from the value it was checked
 * against, so two assertions racing with the same counter cannot both pass.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { migrations } from '../migrations/index.ts';
import { passkeyStore } from '../src/data/passkeys.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';

for (const make of databaseTargets()) {
  const target = make();
  describe(`passkey store (${target.name})`, () => {
    after(() => target.cleanup());
    async function withStore(fn: (store: ReturnType<typeof passkeyStore>) => Promise<void>) {
      const database = openDatabase<IdentityDatabase>({ url: target.url, schema: target.schema });
      try {
        await database.migrate(migrations);
        await fn(passkeyStore(database));
      } finally {
        await database.close();
      }
    }

    test('a challenge is spent by its first taker, and an expired one is not given', async () => {
      await withStore(async (store) => {
        await store.putChallenge('login:a', 'first', null, 60);
        await store.putChallenge('login:a', 'second', null, 60);
        const takes = await Promise.all(Array.from({ length: 5 }, () => store.takeChallenge('login:a')));
        assert.deepEqual(
          takes.filter(Boolean),
          [{ challenge: 'second', accountId: null }],
          'the newest challenge, once',
        );
        await store.putChallenge('register:b', 'old', 'acc-1', 0);
        assert.equal(await store.challengeAccount('register:b'), undefined);
        assert.equal(await store.takeChallenge('register:b'), undefined);
        await store.putChallenge('register:c', 'fresh', 'acc-1', 60);
        assert.equal(await store.challengeAccount('register:c'), 'acc-1', 'peeking does not spend it');
        assert.deepEqual(await store.takeChallenge('register:c'), { challenge: 'fresh', accountId: 'acc-1' });
      });
    });

    test('a credential is kept once, and its counter moves forward once per checked value', async () => {
      await withStore(async (store) => {
        const passkey = {
          id: 'cred-1',
          accountId: 'acc-1',
          publicKey: new Uint8Array([1, 2, 3]),
          counter: 0,
          transports: ['internal'],
          deviceType: 'singleDevice' as const,
        };
        assert.equal(await store.add(passkey), true);
        assert.equal(await store.add({ ...passkey, accountId: 'acc-2' }), false, 'the same credential ID');
        const found = await store.find('cred-1');
        assert.deepEqual([...found!.publicKey], [1, 2, 3]);
        assert.deepEqual(found!.transports, ['internal']);
        const raced = await Promise.all([store.used('cred-1', 0, 1), store.used('cred-1', 0, 1)]);
        assert.deepEqual(raced.sort(), [false, true]);
        assert.equal((await store.find('cred-1'))!.counter, 1);
        assert.ok((await store.find('cred-1'))!.lastUsedAt);
        assert.equal(await store.removeAll('acc-1'), 1);
        assert.deepEqual(await store.list('acc-1'), []);
      });
    });
  });
}
