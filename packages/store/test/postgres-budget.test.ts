/**
 * Every wait on PostgreSQL has a budget, and running out of it is a `DatabaseUnavailableError`:
 * a slow statement, a full pool, a server that accepts a connection and never answers.
 * (A database frozen mid-session, behind real services and a gateway, is in
 * services/platform/test/faults/postgres.test.ts.)
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { DatabaseUnavailableError, isUnavailable, openDatabase, sql } from '../src/sql/index.ts';
import { databaseTargets } from '../src/testing.ts';

const postgres = databaseTargets().find((make) => make().name === 'postgres');
const skip = postgres ? false : 'TEST_DATABASE_URL is not set';
/** For a loaded two-core machine. */
const SLACK_MS = 2000;

async function elapsed<T>(run: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const t0 = performance.now();
  try {
    await run();
    return { ms: performance.now() - t0, error: undefined };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

test('a statement past its budget is cancelled by the server; the connection stays usable', {
  skip,
}, async () => {
  const target = postgres!();
  const database = openDatabase<object>({ url: target.url, poolSize: 1, queryTimeoutMs: 300 });
  try {
    const { ms, error } = await elapsed(() => sql`select pg_sleep(5)`.execute(database.db));
    assert.ok(error instanceof DatabaseUnavailableError, String(error));
    assert.equal((error.cause as { code?: string }).code, '57014');
    assert.ok(ms < 300 + SLACK_MS, `answered after ${ms} ms`);
    // The one pooled connection is still the one that answers.
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
    assert.equal(rows[0]!.one, 1);
  } finally {
    await database.close();
  }
});

test('a full pool: the wait for a connection is bounded', { skip }, async () => {
  const target = postgres!();
  const database = openDatabase<object>({
    url: target.url,
    poolSize: 1,
    queryTimeoutMs: 5000,
    acquireTimeoutMs: 300,
  });
  try {
    const busy = sql`select pg_sleep(1.5)`.execute(database.db);
    const { ms, error } = await elapsed(() => sql`select 1`.execute(database.db));
    assert.ok(error instanceof DatabaseUnavailableError, String(error));
    assert.ok(ms < 300 + SLACK_MS, `answered after ${ms} ms`);
    await busy;
  } finally {
    await database.close();
  }
});

test('a server that accepts and never answers: connecting is bounded', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  const database = openDatabase<object>({ url: `postgres://u@127.0.0.1:${port}/db`, acquireTimeoutMs: 300 });
  try {
    const { ms, error } = await elapsed(() => sql`select 1`.execute(database.db));
    assert.ok(error instanceof DatabaseUnavailableError, String(error));
    assert.ok(ms < 300 + SLACK_MS, `answered after ${ms} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await database.close();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('errors of a database that answered are not "unavailable"', () => {
  assert.equal(isUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
  assert.equal(isUnavailable(Object.assign(new Error('syntax'), { code: '42601' })), false);
  assert.equal(isUnavailable(new TypeError('x is undefined')), false);
  assert.equal(isUnavailable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isUnavailable(Object.assign(new Error('shutting down'), { code: '57P01' })), true);
  assert.equal(isUnavailable(Object.assign(new Error('no route'), { code: '08006' })), true);
});
