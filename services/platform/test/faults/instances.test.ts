/**
 * One of two catalog instances frozen (SIGSTOP), then killed (kill -9), under steady load
 * through a real gateway process. Before: requests waited 11–13.8 s against a 10 s route
 * timeout and ejection took 10.8 s. Now: the stalled instance is ejected within about two
 * `stallAfter`, its requests are retried on the peer within the deadline, and it is re-admitted
 * once it answers again. Figures are printed for the record.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, type Proc, scratch, startService, stopAll, waitFor } from './procs.ts';
import { load as loadUrl, logged as loggedBy } from './traffic.ts';

const TIMEOUT_MS = 3000;
let dir: Awaited<ReturnType<typeof scratch>>;
let a: Proc;
let b: Proc;
let gateway: Proc;

before(async () => {
  dir = await scratch();
  const ports = [await freePort(), await freePort()];
  const file = await dir.file('gateway.json', {
    upstreams: {
      catalog: {
        instances: ports.map((port) => `http://127.0.0.1:${port}`),
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
  [a, b, gateway] = await Promise.all([
    startService(
      'catalog',
      { DATABASE_URL: `sqlite:${dir.dir}/a.db` },
      { port: ports[0], name: 'catalog-a' },
    ),
    startService(
      'catalog',
      { DATABASE_URL: `sqlite:${dir.dir}/b.db` },
      { port: ports[1], name: 'catalog-b' },
    ),
    startService('gateway', { GATEWAY_FILE: file, GATEWAY_WATCH: 'false' }),
  ]);
});

after(async () => {
  await stopAll();
  await dir.remove();
});

const load = (workers: number) => loadUrl(`${gateway.url}/api/v1/products?limit=2`, workers);
const logged = (message: string, instance: string, since: number) =>
  loggedBy(gateway, message, instance, since);

test('a frozen instance is ejected fast, costs no request, and is re-admitted when it thaws; a killed one costs none either', async () => {
  const traffic = load(6);
  await waitFor('warm traffic', () => traffic.outcomes.filter((o) => o.status === 200).length >= 30);

  const paused = Date.now();
  a.pause();
  const ejectedAt = await waitFor('the frozen instance to be ejected', () =>
    logged('circuit breaker open', a.url, paused),
  );
  await waitFor(
    'traffic on the peer',
    () => traffic.outcomes.filter((o) => o.at > ejectedAt + 200).length >= 20,
  );
  const resumed = Date.now();
  a.resume();
  const readmittedAt = await waitFor('the thawed instance to be re-admitted', () =>
    logged('circuit breaker closed', a.url, resumed),
  );
  await waitFor(
    'traffic after re-admission',
    () => traffic.outcomes.filter((o) => o.at > readmittedAt + 200).length >= 20,
  );

  const killed = Date.now();
  await b.kill9();
  await waitFor(
    'traffic after the kill',
    () => traffic.outcomes.filter((o) => o.at > killed + 1000).length >= 30,
  );
  await traffic.stop();

  const during = traffic.outcomes.filter((o) => o.at >= paused);
  const failed = during.filter((o) => o.status !== 200);
  const worst = Math.max(...during.map((o) => o.ms));
  const afterKill = traffic.outcomes.filter((o) => o.at >= killed);
  console.log(
    `[faults] instances: ${during.length} requests after SIGSTOP, ${failed.length} failed; worst wait ${worst} ms (route timeout ${TIMEOUT_MS} ms); ` +
      `ejected ${ejectedAt - paused} ms after SIGSTOP; re-admitted ${readmittedAt - resumed} ms after SIGCONT; ` +
      `kill -9 of the peer: ${afterKill.filter((o) => o.status !== 200).length} of ${afterKill.length} failed, worst ${Math.max(...afterKill.map((o) => o.ms))} ms`,
  );
  assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
  assert.ok(worst < TIMEOUT_MS, `worst wait ${worst} ms is under the route timeout`);
  assert.ok(ejectedAt - paused < 2500, `ejected in ${ejectedAt - paused} ms`);
});
