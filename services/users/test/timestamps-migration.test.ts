import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestIssuer, type TestIssuer, USER_SCOPES } from '@portico/auth/testing';
import { loadConfig } from '@portico/config';
import { columnTypes, type Database, openDatabase, sql } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { migrations } from '../migrations/index.ts';
import { timestampsMigration } from '../migrations/timestamps.ts';
import { build, ConfigSchema } from '../src/build.ts';
import type { UsersDatabase } from '../src/data/schema.ts';

const OLD = {
  id: 'sub-old',
  display_name: 'Made before 002',
  email: 'old@example.com',
  version: 3,
  created_at: '2024-02-29T23:59:59.123Z',
  updated_at: '2025-01-01T00:00:00.000Z',
};

/** The declared type of a profiles column, as the database reports it. */
async function columnType(database: Database<UsersDatabase>, column: string): Promise<string> {
  if (database.dialect === 'postgres') {
    const { rows } = await sql<{ data_type: string }>`select data_type from information_schema.columns
      where table_schema = current_schema() and table_name = 'profiles' and column_name = ${column}`.execute(
      database.db,
    );
    return rows[0]!.data_type;
  }
  const { rows } = await sql<{ name: string; type: string }>`pragma table_info(profiles)`.execute(
    database.db,
  );
  return rows.find((r) => r.name === column)!.type.toLowerCase();
}

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`users timestamps migration (${target.name})`, () => {
    let dir: string;
    let url: string;
    let issuer: TestIssuer;
    const open = () => openDatabase<UsersDatabase>({ url, schema: target.schema });

    before(async () => {
      issuer = await createTestIssuer();
      // In memory, every open is a new database: a file keeps the rows across the two opens.
      dir = await mkdtemp(join(tmpdir(), 'portico-users-'));
      url = target.name === 'sqlite' ? `sqlite:${join(dir, 'users.db')}` : target.url;
      const database = open();
      try {
        await database.migrate((dialect) => ({ '001_users': migrations(dialect)['001_users']! }));
        await database.db.insertInto('profiles').values(OLD).execute();
      } finally {
        await database.close();
      }
    });
    after(async () => {
      await target.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    test('002 gives created_at and updated_at the store timestamp type and keeps the rows', async () => {
      const server = await build(
        loadConfig('users', ConfigSchema, {
          env: {},
          overrides: {
            databaseUrl: url,
            ...(target.schema ? { databaseSchema: target.schema } : {}),
            logLevel: 'silent',
          },
        }),
        { verifier: issuer.verifier },
      );
      try {
        const owner = {
          authorization: `Bearer ${await issuer.sign({ scope: USER_SCOPES, sub: OLD.id, roles: ['customer'] })}`,
        };
        const res = await server.inject({ url: '/api/v1/users/me', headers: owner });
        assert.equal(res.statusCode, 200);
        const { data } = res.json();
        assert.equal(data.display_name, OLD.display_name);
        assert.equal(data.created_at, OLD.created_at);
        assert.equal(data.updated_at, OLD.updated_at);

        const patched = await server.inject({
          method: 'PATCH',
          url: '/api/v1/users/me',
          headers: { ...owner, 'content-type': 'application/merge-patch+json' },
          payload: { display_name: 'Changed after 002' },
        });
        assert.equal(patched.statusCode, 200, patched.body);
        assert.equal(patched.json().data.created_at, OLD.created_at);
        assert.ok(patched.json().data.updated_at > OLD.updated_at);
      } finally {
        await server.close();
      }

      const database = open();
      try {
        const expected = database.dialect === 'postgres' ? 'timestamp with time zone' : 'text';
        assert.equal(
          columnTypes(database.dialect).timestamp,
          database.dialect === 'postgres' ? 'timestamptz' : 'text',
        );
        assert.equal(await columnType(database, 'created_at'), expected);
        assert.equal(await columnType(database, 'updated_at'), expected);
      } finally {
        await database.close();
      }
    });

    test('002 down gives back the ISO-8601 text the rows had', async () => {
      const database = open();
      try {
        await database.db.transaction().execute((trx) => timestampsMigration(database.dialect).down!(trx));
        assert.equal(await columnType(database, 'created_at'), 'text');
        const row = await database.db
          .selectFrom('profiles')
          .select(['created_at'])
          .where('id', '=', OLD.id)
          .executeTakeFirstOrThrow();
        assert.equal(row.created_at, OLD.created_at);
      } finally {
        await database.close();
      }
    });
  });
}
