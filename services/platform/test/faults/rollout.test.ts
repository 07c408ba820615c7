/**
 * A rolling restart under load: two catalog instances behind a real gateway, steady GETs
 * through it, each instance in turn stopped with SIGTERM (it drains), waited for, started
 * again on the same port and waited for until the gateway re-admits it. No request may fail.
 * Figures are printed for the record.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { catalogFleet, TIMEOUT_MS } from './fleet.ts';
import { stopAll, waitFor } from './procs.ts';

let fleet: Awaited<ReturnType<typeof catalogFleet>>;

before(async () => {
  fleet = await catalogFleet({
    healthCheck: { interval: '200ms', unhealthyAfter: 1, healthyAfter: 1 },
    catalogEnv: { SHUTDOWN_DELAY_MS: '1000' },
  });
});

after(async () => {
  await stopAll();
  await fleet.remove();
});

test('a rolling restart of the catalog under load loses no request', async () => {
  const traffic = fleet.load(6);
  await waitFor('warm traffic', () => traffic.outcomes.filter((o) => o.status === 200).length >= 30);
  const began = Date.now();
  const restarts: string[] = [];
  const { catalogs } = fleet;
  for (let i = 0; i < catalogs.length; i++) {
    const stopped = Date.now();
    const code = await catalogs[i]!.stop();
    assert.equal(code, 0, `catalog-${i} drained and exited 0`);
    const exited = Date.now();
    catalogs[i] = await fleet.startCatalog(i);
    const readmittedAt = await waitFor(`catalog-${i} to be re-admitted by the gateway`, () =>
      fleet.logged('instance re-admitted', catalogs[i]!.url, exited),
    );
    restarts.push(
      `catalog-${i} drained in ${exited - stopped} ms, re-admitted ${readmittedAt - exited} ms after exit`,
    );
    await waitFor(
      'traffic after re-admission',
      () => traffic.outcomes.filter((o) => o.at > readmittedAt + 100).length >= 20,
    );
  }
  await traffic.stop();

  const during = traffic.outcomes.filter((o) => o.at >= began);
  const failed = during.filter((o) => o.status !== 200);
  const worst = Math.max(...during.map((o) => o.ms));
  console.log(
    `[faults] rollout: ${during.length} requests during the restarts, ${failed.length} failed; worst ${worst} ms (route timeout ${TIMEOUT_MS} ms); ${restarts.join('; ')}`,
  );
  assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
  assert.ok(worst < TIMEOUT_MS, `worst wait ${worst} ms is under the route timeout`);
});
