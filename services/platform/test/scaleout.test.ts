/**
 * Portico scaled out: two replicas of the gateway, catalog, identity, console and
 * payments (one of users and orders) on one PostgreSQL and one Redis, HAProxy in front.
 * What docs/deploy.md promises across replicas, replica loss and a rolling restart under
 * steady load. With an image (PORTICO_IMAGE, which CI sets once it has built it, or
 * SCALEOUT_IMAGE) every replica is a container of it started by deploy/image/run.sh;
 * without, a process of the source tree.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisTestUrl } from '@portico/store/testing';
import pg from 'pg';
import {
  cachePurgeAcrossGateways,
  rateLimitAcrossGateways,
  subscriptionAcrossCatalogs,
} from '../src/scaleout/checks.ts';
import { apiLogin, consoleSignIn, refreshAt } from '../src/scaleout/clients.ts';
import { type Deployment, LIMITED_ROUTE, startDeployment } from '../src/scaleout/deployment.ts';
import { locateHaproxy } from '../src/scaleout/haproxy.ts';
import { dockerLauncher, processLauncher } from '../src/scaleout/launcher.ts';
import {
  api,
  type Fixture,
  killUnderLoad,
  prepare,
  REPLICATED,
  rolloutUnderLoad,
  summary,
  unhealed,
} from '../src/scaleout/scenarios.ts';

const databaseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = redisTestUrl();
if (!databaseUrl && process.env.CI) throw new Error('TEST_DATABASE_URL must be set in CI');
// Found, or installed from Debian when we may; outside CI a machine without it skips.
const haproxy = (() => {
  try {
    return locateHaproxy();
  } catch (err) {
    if (process.env.CI) throw err;
    return undefined;
  }
})();
// Bounded load, to 127.0.0.1 only, sized for a busy 2-core CI machine (which also runs all
// twelve replicas and HAProxy); `npm run scaleout -- --duration 120s --rate 100` for more.
const LOAD = { rate: 40, durationMs: 20_000 };
// CI builds the image first (PORTICO_IMAGE): the replicas are then its containers.
const image = process.env.SCALEOUT_IMAGE ?? process.env.PORTICO_IMAGE;

describe('scale-out: many replicas behind HAProxy on PostgreSQL and Redis', {
  skip: !databaseUrl || !redisUrl || !haproxy,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scaleout-'));
  let deployment: Deployment;
  let fixture: Fixture;

  before(
    async () => {
      deployment = await startDeployment({
        launcher: image ? dockerLauncher(image, dir) : processLauncher(),
        databaseUrl: databaseUrl!,
        redisUrl: redisUrl!,
        dir,
        // Past the access token's lifetime: every API call through the console refreshes.
        webRefreshLeewaySeconds: 7200,
      });
      fixture = await prepare(deployment);
    },
    // Twelve Node processes starting together on two cores: minutes when the machine is busy.
    { timeout: 900_000 },
  );
  after(async () => {
    await deployment?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every replica started at once on fresh schemas: migrations raced and none failed', async () => {
    const status = await deployment.haproxy.status();
    for (const r of deployment.replicas) {
      assert.equal(r.history.length, 1, `${r.name} was started once`);
      assert.equal(status.get(r.name), 'UP', r.name);
    }
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        `select count(*)::int as n, count(distinct name)::int as distinct from ${deployment.schema('payments')}.kysely_migration`,
      );
      assert.deepEqual(rows[0], { n: 2, distinct: 2 }, 'each payments migration recorded once');
    } finally {
      await client.end();
    }
  });

  test(`one rate limit of ${LIMITED_ROUTE.limit} a minute across both gateways, exactly`, async () => {
    const check = await rateLimitAcrossGateways(deployment);
    const all = check.statuses.join(' ');
    assert.equal(check.allowed, LIMITED_ROUTE.limit, all);
    assert.equal(check.limited, check.sent - LIMITED_ROUTE.limit, all);
    assert.ok(
      check.statuses.slice(0, LIMITED_ROUTE.limit).every((s) => s === 200),
      all,
    );
  });

  test("a write through one gateway purges the other's cache", async () => {
    const check = await cachePurgeAcrossGateways(deployment, fixture);
    assert.equal(check.otherGatewayCache, 'HIT', 'one cache for both gateways');
    assert.equal(check.patchStatus, 200);
    assert.notEqual(check.afterWriteCache, 'HIT');
    assert.equal(check.priceRead, check.price);
  });

  test('a product update on one catalog reaches a GraphQL subscriber on the other', async () => {
    const check = await subscriptionAcrossCatalogs(deployment, fixture);
    assert.deepEqual(check.event, { id: fixture.productId, price: check.price });
  });

  test('a login on one identity and a refresh on the other, and back', async () => {
    const login = await apiLogin(deployment, 'alice');
    const first = await refreshAt(deployment, 'identity-1', login.refreshToken);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await refreshAt(deployment, 'identity-2', first.body.refresh_token!);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const me = await api(deployment, 'GET', '/api/v1/users/me', second.body.access_token);
    assert.equal(me.status, 200, 'a token from identity-2 works at the gateway');
    const replay = await refreshAt(deployment, 'identity-1', login.refreshToken);
    assert.equal(replay.status, 400, 'a used refresh token is refused on the other replica too');
  });

  test('a console session is served by either web replica', async () => {
    for (const replica of ['web-2', 'web-1', 'web-2', 'web-1']) {
      const state = await (await fixture.console.request('/api/session', { replica })).json();
      assert.equal(state.authenticated, true, `${replica} knows the session`);
      // Each API call refreshes the access token here: the rotated tokens are seen by the other replica.
      const me = await fixture.console.request('/api/v1/users/me', { replica });
      assert.equal(me.status, 200, `${replica}: ${await me.text()}`);
    }
  });

  // Both replicas refresh with the same refresh token at once: the console's refresh tokens are
  // bound to its client secret and do not rotate, so neither refresh is taken for a replay.
  test('two web replicas refreshing one console session at once keep it signed in', async () => {
    const session = await consoleSignIn(deployment, 'alice', 'web-2');
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        ['web-1', 'web-2'].map((replica) => session.request('/api/v1/users/me', { replica })),
      );
      statuses.push(...answers.map((a) => a.status));
    }
    const after = await session.request('/api/v1/users/me', { replica: 'web-1' });
    assert.deepEqual([...statuses, after.status], [200, 200, 200, 200, 200, 200, 200]);
  });

  test('an Idempotency-Key replayed on the other payments replica gets the first answer', async () => {
    const order = await (async () => {
      await api(deployment, 'POST', '/api/v1/cart/items', fixture.alice.accessToken, {
        product_id: fixture.productId,
        quantity: 1,
      });
      return api(deployment, 'POST', '/api/v1/orders', fixture.alice.accessToken);
    })();
    assert.equal(order.status, 201);
    const key = randomUUID();
    const post = (replica: string) =>
      api(
        deployment,
        'POST',
        '/api/v1/payments',
        fixture.alice.accessToken,
        { order_id: order.body.data.id },
        { 'idempotency-key': key },
        deployment.replicaUrl(replica),
      );
    const first = await post('payments-1');
    assert.equal(first.status, 201);
    const again = await post('payments-2');
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
  });

  test('an order reaches the catalogs over Redis pub/sub: recommendations come from it on either replica', async () => {
    const { accessToken } = fixture.alice;
    const added = await api(deployment, 'POST', '/api/v1/cart/items', accessToken, {
      product_id: fixture.productId,
      quantity: 1,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal((await api(deployment, 'POST', '/api/v1/orders', accessToken)).status, 201);
    for (const replica of ['catalog-1', 'catalog-2']) {
      const ask = () =>
        api(
          deployment,
          'GET',
          '/api/v1/recommendations',
          accessToken,
          undefined,
          {},
          deployment.replicaUrl(replica),
        );
      const deadline = Date.now() + 10_000;
      let meta = (await ask()).body.meta;
      while (!meta?.personalised && Date.now() < deadline) {
        await sleep(100);
        meta = (await ask()).body.meta;
      }
      assert.deepEqual(meta, { personalised: true, degraded: false }, replica);
    }
  });

  test('one payments replica runs the sync loop; when it dies the other takes over', async (t) => {
    const held = async (replica: string) => {
      const res = await fetch(`${deployment.operatorUrl(replica)}/metrics`);
      return /^payments_order_sync_lease_held(?:\{[^}]*\})? 1$/m.test(await res.text());
    };
    const holders = async () => {
      const names = ['payments-1', 'payments-2'];
      const flags = await Promise.all(names.map(held));
      return names.filter((_, i) => flags[i]);
    };
    let current: string[] = [];
    for (
      const deadline = Date.now() + 15_000;
      current.length !== 1 && Date.now() < deadline;
      await sleep(200)
    )
      current = await holders();
    assert.equal(current.length, 1, `one holder, not ${current.join(', ') || 'none'}`);
    for (let i = 0; i < 10; i++) {
      assert.ok((await holders()).length <= 1, 'never two holders');
      await sleep(100);
    }
    const [holder] = current;
    const other = holder === 'payments-1' ? 'payments-2' : 'payments-1';
    const t0 = Date.now();
    await deployment.stopReplica(holder!, 'SIGKILL');
    while (!(await held(other))) {
      assert.ok(Date.now() - t0 < 20_000, `${other} never took the lease`);
      await sleep(100);
    }
    const handover = Date.now() - t0;
    void t;
    console.log(`lease handover after kill -9: ${handover} ms`);
    await deployment.startReplica(holder!);
    assert.equal(await held(holder!), false, 'the restarted replica waits its turn');
    assert.equal(await held(other), true);
  });

  test(`kill -9 one replica of each kind (${REPLICATED.join(', ')}) under ${LOAD.rate} requests a second`, {
    timeout: 300_000,
  }, async (t) => {
    const result = await killUnderLoad(deployment, fixture, LOAD);
    t.diagnostic(summary(result));
    assert.equal(result.load.sent, Math.round((LOAD.rate * LOAD.durationMs) / 1000));
    // A GET cut off on a killed replica is retried by HAProxy on the other; a write in flight
    // there may have been done, so it is not, and fails (counted in the diagnostic above).
    assert.equal(result.load.failedIdempotent, 0, 'no idempotent request failed');
    assert.ok(result.load.acknowledged.length > 0, 'writes were acknowledged under the faults');
    assert.deepEqual(result.lost, [], 'no acknowledged write lost');
    assert.deepEqual(await unhealed(deployment, fixture), [], 'every replica back and serving');
  });

  test('a rolling restart, one replica at a time, drained first, under load: no request fails', {
    // Five replicas restarted one after the other: seconds each on an idle machine, a minute on a busy one.
    timeout: 600_000,
  }, async (t) => {
    // The first replica of each was just replaced after its kill -9; CI rolls the second, so every
    // replica has been replaced once (`npm run scaleout` rolls them all, one after the other).
    const result = await rolloutUnderLoad(deployment, fixture, {
      rate: LOAD.rate,
      maxDurationMs: 600_000,
      replicas: [2],
    });
    t.diagnostic(summary(result));
    assert.equal(result.load.failedIdempotent, 0, 'no idempotent request failed');
    assert.equal(result.load.failedWrites, 0, 'no write failed: nothing was in flight on a stopped replica');
    assert.ok(result.load.acknowledged.length > 0, 'writes were acknowledged during the rollout');
    assert.deepEqual(result.lost, [], 'no acknowledged write lost');
    assert.deepEqual(await unhealed(deployment, fixture), [], 'every replica back and serving');
    for (const r of deployment.replicas.filter((x) => REPLICATED.includes(x.service)))
      assert.ok(r.history.length >= 2, `${r.name} was replaced`);
  });
});
