/**
 * The index of an account's sessions follows the provider's events, including the renewal
 * of a session's id at sign-in (oidc-provider drops the old row without an event of its own).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import type Provider from 'oidc-provider';
import { migrations } from '../migrations/index.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { accountSessions } from '../src/domain/sessions.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`account sessions index (${target.name})`, () => {
    const database = openDatabase<IdentityDatabase>({ url: target.url, schema: target.schema });
    const provider = new EventEmitter();
    const errors: unknown[] = [];
    const index = accountSessions(database, provider as unknown as Provider, (err) => errors.push(err));
    before(() => database.migrate(migrations));
    after(async () => {
      await database.close();
      await target.cleanup();
    });

    const listed = async (account: string) => (await index.list(account)).map((a) => `${a.kind}:${a.id}`);
    const settled = async (account: string, expected: string[]) => {
      const deadline = Date.now() + 5000;
      while ((await listed(account)).sort().join() !== expected.sort().join() && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual((await listed(account)).sort(), expected.sort());
    };

    test('a renewed session replaces its old id; a destroyed one leaves; grants are their own', async () => {
      const exp = Math.floor(Date.now() / 1000) + 3600;
      provider.emit('session.saved', { jti: 'first', accountId: 'ann', exp });
      provider.emit('grant.saved', { jti: 'g1', accountId: 'ann', clientId: 'portico-web', exp });
      await settled('ann', ['session:first', 'grant:g1']);
      provider.emit('session.saved', { jti: 'second', oldId: 'first', accountId: 'ann', exp });
      await settled('ann', ['session:second', 'grant:g1']);
      provider.emit('session.destroyed', { jti: 'second' });
      await settled('ann', ['grant:g1']);
      assert.deepEqual(errors, []);
    });
  });
}
