/**
 * The order-sync lease between replicas: each replica is its own connection to one
 * database (a SQLite file, or a PostgreSQL schema), as separate processes would be.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Database, openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { migrations } from '../migrations/index.ts';
import type { PaymentsDatabase } from '../src/data/schema.ts';
import { createLeaseService, type LeaseService } from '../src/domain/leases.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`order-sync lease (${target.name})`, () => {
    const file = join(tmpdir(), `portico-lease-${randomBytes(6).toString('hex')}.db`);
    const url = target.name === 'sqlite' ? `sqlite:${file}` : target.url;
    const opened: Database<PaymentsDatabase>[] = [];
    const replica = async (ttlMs: number, name = 'order-sync') => {
      const database = openDatabase<PaymentsDatabase>({ url, schema: target.schema, poolSize: 2 });
      opened.push(database);
      await database.migrate(migrations);
      return createLeaseService(database, {
        name,
        holder: `replica-${opened.length}`,
        ttlMs,
      });
    };
    after(async () => {
      await Promise.all(opened.map((d) => d.close()));
      await target.cleanup();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    });

    test('one holder; it renews; a silent holder is replaced once its time runs out, and then loses it', async () => {
      const a = await replica(400, 'handover');
      const b = await replica(400, 'handover');
      assert.equal(await a.take(), true);
      assert.equal(await b.take(), false, 'held by a');
      assert.equal(await a.take(), true, 'renewed');
      // a dies: it stops renewing. b polls as its loop would, and takes over after the expiry.
      const t0 = Date.now();
      while (!(await b.take())) {
        assert.ok(Date.now() - t0 < 10_000, 'b never took over');
        await sleep(25);
      }
      assert.ok(Date.now() - t0 >= 300, `b took over after ${Date.now() - t0} ms, before the lease ran out`);
      assert.equal(await a.take(), false, 'a, back from the dead, finds b holding it');
      assert.equal(a.held, false);
    });

    test('a holder that stops gracefully hands over at once', async () => {
      const a = await replica(60_000, 'graceful');
      const b = await replica(60_000, 'graceful');
      assert.equal(await a.take(), true);
      assert.equal(await b.take(), false);
      await a.release();
      assert.equal(await b.take(), true);
      await b.release();
    });

    test('eight replicas taking a free lease at once: exactly one gets it', async () => {
      const leases: LeaseService[] = [];
      for (let i = 0; i < 8; i++) leases.push(await replica(60_000, 'race'));
      const taken = await Promise.all(leases.map((l) => l.take()));
      assert.equal(taken.filter(Boolean).length, 1, JSON.stringify(taken));
      const again = await Promise.all(leases.map((l) => l.take()));
      assert.deepEqual(again, taken, 'the same replica keeps it');
    });
  });
}
