/** The SQL storage adapter's contract, as oidc-provider relies on it, on each database. */
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { migrations } from '../migrations/index.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { type SqlAdapterFactory, sqlAdapter } from '../src/oidc/sql-adapter.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`SQL adapter (${target.name})`, () => {
    const database = openDatabase<IdentityDatabase>({ url: target.url, schema: target.schema });
    let storage: SqlAdapterFactory;
    before(async () => {
      await database.migrate(migrations);
      storage = sqlAdapter(database);
    });
    after(async () => {
      await database.close();
      await target.cleanup();
    });

    test('upsert, find, find by uid; models do not see each other', async () => {
      const sessions = new storage.Adapter('Session');
      const codes = new storage.Adapter('AuthorizationCode');
      await sessions.upsert('s1', { uid: 'u1', accountId: 'a', nested: { list: [] } }, 60);
      assert.deepEqual(await sessions.find('s1'), { uid: 'u1', accountId: 'a', nested: { list: [] } });
      assert.equal((await sessions.findByUid('u1'))?.accountId, 'a');
      assert.equal(await codes.find('s1'), undefined);
      await sessions.upsert('s1', { uid: 'u1', accountId: 'b' }, 60);
      assert.equal((await sessions.find('s1'))?.accountId, 'b');
      await sessions.destroy('s1');
      assert.equal(await sessions.find('s1'), undefined);
    });

    test('consume marks once; a second consume is a replay that takes the grant with it', async () => {
      const codes = new storage.Adapter('AuthorizationCode');
      const tokens = new storage.Adapter('RefreshToken');
      const grants = new storage.Adapter('Grant');
      await grants.upsert('g1', { accountId: 'a' }, 600);
      await codes.upsert('c1', { grantId: 'g1' }, 60);
      await tokens.upsert('r1', { grantId: 'g1' }, 600);
      await codes.consume('c1');
      assert.equal(typeof (await codes.find('c1'))?.consumed, 'number');
      await assert.rejects(codes.consume('c1'), /invalid_grant/);
      assert.equal(await tokens.find('r1'), undefined);
      assert.equal(await grants.find('g1'), undefined);
    });

    test('revokeByGrantId removes that model’s artefacts of one grant only', async () => {
      const tokens = new storage.Adapter('RefreshToken');
      await tokens.upsert('r2', { grantId: 'g2' }, 600);
      await tokens.upsert('r3', { grantId: 'g3' }, 600);
      await tokens.revokeByGrantId('g2');
      assert.equal(await tokens.find('r2'), undefined);
      assert.ok(await tokens.find('r3'));
    });

    test('expired artefacts are invisible at once and swept later', async () => {
      const interactions = new storage.Adapter('Interaction');
      await interactions.upsert('i1', { uid: 'i1' }, 30);
      await interactions.upsert('i2', { uid: 'i2' }, 3600);
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      try {
        mock.timers.tick(31_000);
        assert.equal(await interactions.find('i1'), undefined);
        assert.ok(await interactions.find('i2'));
        assert.ok((await storage.sweep()) >= 1);
      } finally {
        mock.timers.reset();
      }
      const left = await database.db.selectFrom('oidc_models').select('id').where('id', '=', 'i1').execute();
      assert.deepEqual(left, []);
    });
  });
}
