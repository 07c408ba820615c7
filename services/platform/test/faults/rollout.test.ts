/**
 * A rolling restart under load: two catalog instances behind a real gateway, steady GETs
 * through it, each instance in turn stopped with SIGTERM (it drains), waited for, started
 * again on the same port and waited for until the gateway re-admits it. No request may fail.
 * Figures are printed for the record.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, type Proc, scratch, startService, stopAll, waitFor } from './procs.ts';
import { load as loadUrl, logged as loggedBy } from './traffic.ts';

const TIMEOUT_MS = 3000;
const ports: number[] = [];
let dir: Awaited<ReturnType<typeof scratch>>;
let catalogs: Proc[];
let gateway: Proc;

const catalogEnv = (i: number) => ({
  DATABASE_URL: `sqlite:${dir.dir}/catalog-${i}.db`,
  SHUTDOWN_DELAY_MS: '1000',
});
const startCatalog = (i: number) =>
  startService('catalog', catalogEnv(i), { port: ports[i], name: `catalog-${i}` });

before(async () => {
  dir = await scratch();
  ports.push(await freePort(), await freePort());
  const file = await dir.file('gateway.json', {
    upstreams: {
      catalog: {
        instances: ports.map((port) => `http://127.0.0.1:${port}`),
        healthCheck: { interval: '200ms', unhealthyAfter: 1, healthyAfter: 1 },
        breaker: { failures: 5, cooldown: '1s', stallAfter: '500ms' },
      },
    },
    routes: [
      {
        name: 'products',
        path: '/api/v1/products',
        upstream: 'catalog',
        timeout: TIMEOUT_MS,
        retries: 1,
        auth: { default: 'public' },
      },
    ],
  });
  [catalogs[0], catalogs[1], gateway] = await Promise.all([
    startCatalog(0),
    startCatalog(1),
    startService('gateway', { GATEWAY_FILE: file, GATEWAY_WATCH: 'false' }),
  ]);
});
catalogs = [];

after(async () => {
  await stopAll();
  await dir.remove();
});

const load = (workers: number) => loadUrl(`${gateway.url}/api/v1/products?limit=2`, workers);
const logged = (message: string, instance: string, since: number) =>
  loggedBy(gateway, message, instance, since);

test('a rolling restart of the catalog under load loses no request', async () => {
  const traffic = load(6);
  await waitFor('warm traffic', () => traffic.outcomes.filter((o) => o.status === 200).length >= 30);
  const began = Date.now();
  const restarts: string[] = [];
  for (let i = 0; i < catalogs.length; i++) {
    const stopped = Date.now();
    const code = await catalogs[i]!.stop();
    assert.equal(code, 0, `catalog-${i} drained and exited 0`);
    const exited = Date.now();
    catalogs[i] = await startCatalog(i);
    const readmittedAt = await waitFor(`catalog-${i} to be re-admitted by the gateway`, () =>
      logged('instance re-admitted', catalogs[i]!.url, exited),
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
