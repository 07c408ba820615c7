import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  columnTypes,
  isForeignKeyViolation,
  isUniqueViolation,
  openDatabase,
  sql,
  uuidv7,
} from '../src/sql/index.ts';
import { databaseTargets } from '../src/testing.ts';

interface DB {
  parent: { id: string; flag: boolean | number; at: string };
  child: { id: string; parent_id: string };
}

describe('uuidv7', () => {
  test('sorts by creation time and has the version and variant bits', () => {
    const ids = [uuidv7(1000), uuidv7(2000), uuidv7(3000)];
    assert.deepEqual([...ids].sort(), ids);
    assert.match(ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('ids made one after another are strictly increasing, many within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    const sameMs = ids.filter((id, i) => i > 0 && id.slice(0, 13) === ids[i - 1]!.slice(0, 13)).length;
    assert.ok(sameMs > 0, 'the test made ids within one millisecond');
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  });
});

test('unsupported URLs are refused with the password redacted', () => {
  assert.throws(
    () => openDatabase({ url: 'mysql://u:secret@h/db' }),
    (err: Error) => !err.message.includes('secret'),
  );
});

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`sql store (${target.name})`, () => {
    test('one migration set, portable types, constraint errors recognised, migrations run once', async () => {
      const database = openDatabase<DB>({ url: target.url, schema: target.schema });
      const migrations = (dialect: 'sqlite' | 'postgres') => {
        const t = columnTypes(dialect);
        return {
          '001': {
            async up(db: import('kysely').Kysely<unknown>) {
              await db.schema
                .createTable('parent')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('flag', t.boolean, (c) => c.notNull())
                .addColumn('at', t.timestamp, (c) => c.notNull())
                .execute();
              await db.schema
                .createTable('child')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('parent_id', 'text', (c) => c.notNull().references('parent.id'))
                .execute();
            },
          },
        };
      };
      try {
        await database.migrate(migrations);
        await database.migrate(migrations);
        const at = '2026-01-02T03:04:05.678Z';
        await database.db.insertInto('parent').values({ id: 'p', flag: true, at }).execute();
        const row = await database.db.selectFrom('parent').selectAll().executeTakeFirstOrThrow();
        assert.equal(Boolean(row.flag), true);
        assert.equal(row.at, at);
        await assert.rejects(
          database.db.insertInto('parent').values({ id: 'p', flag: false, at }).execute(),
          isUniqueViolation,
        );
        await assert.rejects(
          database.db.insertInto('child').values({ id: 'c', parent_id: 'none' }).execute(),
          isForeignKeyViolation,
        );
        const count = await sql<{ n: number }>`select count(*) as n from parent`.execute(database.db);
        assert.equal(Number(count.rows[0]!.n), 1);
      } finally {
        await database.close();
        await target.cleanup();
      }
    });
  });
}

test('SQLite files are their owner’s alone: directory 0700 when made, database, -wal and -shm 0600', async () => {
  const root = mkdtempSync(join(tmpdir(), 'portico-modes-'));
  const previous = process.umask(0o022);
  try {
    const file = join(root, 'data', 'nested', 'service.db');
    const database = openDatabase<DB>({ url: `sqlite:${file}` });
    await sql`create table t (v text)`.execute(database.db);
    await sql`insert into t values ('secret')`.execute(database.db);
    const mode = (path: string) => statSync(path).mode & 0o777;
    assert.equal(mode(join(root, 'data')), 0o700);
    assert.equal(mode(join(root, 'data', 'nested')), 0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(path), 0o600, path);
    await database.close();

    // A database left world-readable by an older version is tightened when opened.
    chmodSync(file, 0o644);
    const again = openDatabase<DB>({ url: `sqlite:${file}` });
    await sql`insert into t values ('more')`.execute(again.db);
    assert.equal(mode(file), 0o600);
    await again.close();
  } finally {
    process.umask(previous);
    rmSync(root, { recursive: true, force: true });
  }
});

// Every replica of a service migrates when it starts; a rollout starts them together.
for (const makeTarget of databaseTargets().slice(1)) {
  test('eight replicas migrating one fresh schema at once: each migration runs once, none fails', async () => {
    const target = makeTarget();
    let runs = 0;
    const migrations = {
      '001': {
        async up(db: import('kysely').Kysely<unknown>) {
          runs++;
          await db.schema
            .createTable('parent')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .execute();
        },
      },
      '002': {
        async up(db: import('kysely').Kysely<unknown>) {
          runs++;
          await db.schema.createIndex('parent_id_desc').on('parent').column('id desc').execute();
        },
      },
    };
    const replicas = Array.from({ length: 8 }, () =>
      openDatabase<DB>({ url: target.url, schema: target.schema, poolSize: 2 }),
    );
    try {
      const outcomes = await Promise.allSettled(replicas.map((r) => r.migrate(migrations)));
      assert.deepEqual(
        outcomes
          .filter((o) => o.status === 'rejected')
          .map((o) => String((o as PromiseRejectedResult).reason)),
        [],
      );
      assert.equal(runs, 2, 'each migration ran exactly once');
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await target.cleanup();
    }
  });
}
