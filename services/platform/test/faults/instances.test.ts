/**
 * One of two catalog instances frozen (SIGSTOP), then killed (kill -9), under steady load
 * through a real gateway process. Before: requests waited 11–13.8 s against a 10 s route
 * timeout and ejection took 10.8 s. Now: the stalled instance is ejected within about two
 * `stallAfter`, its requests are retried on the peer within the deadline, and it is re-admitted
 * once it answers again. Figures are printed for the record.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { catalogFleet, TIMEOUT_MS } from './fleet.ts';
import { type Proc, stopAll, waitFor } from './procs.ts';

let fleet: Awaited<ReturnType<typeof catalogFleet>>;
let a: Proc;
let b: Proc;

before(async () => {
  fleet = await catalogFleet();
  [a, b] = fleet.catalogs as [Proc, Proc];
});

after(async () => {
  await stopAll();
  await fleet.remove();
});

test('a frozen instance is ejected fast, costs no request, and is re-admitted when it thaws; a killed one costs none either', async () => {
  const traffic = fleet.load(6);
  await waitFor('warm traffic', () => traffic.outcomes.filter((o) => o.status === 200).length >= 30);

  const paused = Date.now();
  a.pause();
  const ejectedAt = await waitFor('the frozen instance to be ejected', () =>
    fleet.logged('circuit breaker open', a.url, paused),
  );
  await waitFor(
    'traffic on the peer',
    () => traffic.outcomes.filter((o) => o.at > ejectedAt + 200).length >= 20,
  );
  const resumed = Date.now();
  a.resume();
  const readmittedAt = await waitFor('the thawed instance to be re-admitted', () =>
    fleet.logged('circuit breaker closed', a.url, resumed),
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
