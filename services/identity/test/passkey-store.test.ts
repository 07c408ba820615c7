/**
 * The passkey tables' atomic rules on both databases: a challenge is taken once (of concurrent
 * takes, one wins) and not after it expired (the service refuses it); a counter moves only from
 * the value it was checked against, so two assertions racing with the same counter cannot both pass.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { migrations } from '../migrations/index.ts';
import { passkeysTable } from '../src/data/passkeys.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { webauthnChallengesTable } from '../src/data/webauthn-challenges.ts';
import { createPasskeyService, type PasskeyService, passkeyRow, toPasskey } from '../src/domain/passkeys.ts';

for (const make of databaseTargets()) {
  const target = make();
  describe(`passkey tables (${target.name})`, () => {
    after(() => target.cleanup());
    async function withStore(
      fn: (
        store: ReturnType<typeof passkeysTable>,
        challenges: ReturnType<typeof webauthnChallengesTable>,
        passkeys: PasskeyService,
      ) => Promise<void>,
    ) {
      const database = openDatabase<IdentityDatabase>({ url: target.url, schema: target.schema });
      try {
        await database.migrate(migrations);
        await fn(
          passkeysTable(database.db),
          webauthnChallengesTable(database.db),
          createPasskeyService(database, { issuer: 'https://id.example' }),
        );
      } finally {
        await database.close();
      }
    }

    test('a challenge is spent by its first taker, and an expired one is not given', async () => {
      await withStore(async (_store, challenges, passkeys) => {
        const put = (key: string, challenge: string, accountId: string | null, ttlSeconds: number) =>
          challenges.put({
            challenge_key: key,
            challenge,
            account_id: accountId,
            expires_at: Date.now() + ttlSeconds * 1000,
          });
        await put('login:a', 'first', null, 60);
        await put('login:a', 'second', null, 60);
        const takes = await Promise.all(Array.from({ length: 5 }, () => challenges.take('login:a')));
        assert.deepEqual(
          takes.filter(Boolean).map((row) => row!.challenge),
          ['second'],
          'the newest challenge, once',
        );
        await put('register:b', 'old', 'acc-1', 0);
        assert.equal(await passkeys.challengeAccount('register:b'), undefined);
        assert.deepEqual(await passkeys.signIn('register:b', {}), {
          kind: 'refused',
          reason: 'no_challenge',
        });
        await put('register:c', 'fresh', 'acc-1', 60);
        assert.equal(await passkeys.challengeAccount('register:c'), 'acc-1', 'peeking does not spend it');
        assert.deepEqual(await passkeys.signIn('register:c', {}), { kind: 'refused', reason: 'malformed' });
        assert.deepEqual(
          await passkeys.signIn('register:c', {}),
          { kind: 'refused', reason: 'no_challenge' },
          'spent by the first answer',
        );
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
        assert.equal(await store.insert(passkeyRow(passkey)), true);
        assert.equal(
          await store.insert(passkeyRow({ ...passkey, accountId: 'acc-2' })),
          false,
          'the same credential ID',
        );
        const find = async (id: string) => {
          const row = await store.byId(id);
          return row && toPasskey(row);
        };
        const found = await find('cred-1');
        assert.deepEqual([...found!.publicKey], [1, 2, 3]);
        assert.deepEqual(found!.transports, ['internal']);
        const at = new Date().toISOString();
        const raced = await Promise.all([store.used('cred-1', 0, 1, at), store.used('cred-1', 0, 1, at)]);
        assert.deepEqual(raced.sort(), [false, true]);
        assert.equal((await find('cred-1'))!.counter, 1);
        assert.ok((await find('cred-1'))!.lastUsedAt);
        assert.equal(await store.deleteAll('acc-1'), 1);
        assert.deepEqual(await store.ofAccount('acc-1'), []);
      });
    });
  });
}
