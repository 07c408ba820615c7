import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import { redisTestUrl } from '@portico/store/testing';
import type { TestUpstream } from './support/harness.ts';
import { definition, json, metric, startGateway, startUpstream } from './support/harness.ts';

const redisUrl = redisTestUrl();

function limited(up: TestUpstream, limit: number, window = '1m') {
  return definition({ svc: [up.url] }, [
    {
      name: 'limited',
      path: '/api/v1/limited',
      upstream: 'svc',
      auth: { read: 'public', write: 'token' },
      rateLimit: { limit, window },
    },
  ] as never);
}

describe('rate limiting', () => {
  let issuer: TestIssuer;
  let up: TestUpstream;
  before(async () => {
    issuer = await createTestIssuer();
    up = await startUpstream();
  });
  after(() => up.close());

  test('in memory: N per window per consumer, RateLimit headers, 429 with Retry-After and problem+json', async () => {
    const gw = await startGateway(limited(up, 3), { verifier: issuer.verifier });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 5; i++) {
        last = await fetch(`${gw.url}/api/v1/limited`);
        statuses.push(last.status);
        if (i === 0) {
          assert.equal(last.headers.get('ratelimit-policy'), '"limited";q=3;w=60');
          assert.match(last.headers.get('ratelimit')!, /^"limited";r=2;t=\d+$/);
        }
        await last.arrayBuffer().catch(() => {});
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const refused = await fetch(`${gw.url}/api/v1/limited`);
      assert.equal(refused.status, 429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60);
      assert.match(refused.headers.get('ratelimit')!, /r=0/);
      assert.equal(refused.headers.get('content-type'), 'application/problem+json');
      const problem = await json(refused);
      assert.equal(problem.code, 'RATE_LIMIT_EXCEEDED');
      assert.equal(problem.request_id, refused.headers.get('x-request-id'));

      // another consumer (a verified user) has its own budget
      const token = await issuer.sign({ sub: 'someone' });
      const asUser = await fetch(`${gw.url}/api/v1/limited`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(asUser.status, 200);
      assert.match(asUser.headers.get('ratelimit')!, /r=2/);

      const metrics = await (await fetch(`${gw.operatorUrl}/metrics`)).text();
      assert.equal(
        metric(metrics, 'gateway_ratelimit_decisions_total', { route: 'limited', decision: 'rejected' }),
        3,
      );
    } finally {
      await gw.close();
    }
  });

  test('sliding window: slots free as the oldest requests leave the window, never a burst at an edge', async () => {
    const gw = await startGateway(limited(up, 2, '400ms'));
    try {
      // For each admitted request, when it was sent and when its answer came: the gateway
      // admitted it in between, so two admissions apart by a full window are provably apart
      // when one's answer came a window after the other was sent.
      const admitted: Array<{ sent: number; received: number }> = [];
      const started = Date.now();
      let refused = 0;
      // Until the window has turned at least twice over (a loaded machine sends fewer requests).
      while (Date.now() - started < 1200 || (admitted.length < 5 && Date.now() - started < 8000)) {
        const sent = Date.now();
        const res = await fetch(`${gw.url}/api/v1/limited`);
        const received = Date.now();
        if (res.status === 200) admitted.push({ sent, received });
        else {
          assert.equal(res.status, 429);
          refused++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(refused > 0, 'some requests were refused');
      assert.ok(admitted.length >= 5, `slots came back (${admitted.length} admitted)`);
      for (let i = 2; i < admitted.length; i++) {
        assert.ok(admitted[i]!.received - admitted[i - 2]!.sent >= 399, 'never 3 admitted within one window');
      }
    } finally {
      await gw.close();
    }
  });

  test('Redis: a limit of N holds across two gateways sharing one Redis', { skip: !redisUrl }, async () => {
    const config = { redisUrl: redisUrl!, redisKeyPrefix: `test:${randomBytes(6).toString('hex')}:` };
    const one = await startGateway(limited(up, 10), { config });
    const two = await startGateway(limited(up, 10), { config });
    try {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          fetch(`${(i % 2 ? one : two).url}/api/v1/limited`).then((r) => r.status),
        ),
      );
      assert.equal(results.filter((s) => s === 200).length, 10);
      assert.equal(results.filter((s) => s === 429).length, 20);
      const health = await json(await fetch(`${one.operatorUrl}/health`));
      assert.deepEqual((health.store as { backend: string; status: string }).backend, 'redis');
      assert.equal((health.store as { status: string }).status, 'healthy');
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('Redis connection killed under load: requests keep flowing, the limit is enforced again once it is back', {
    skip: !redisUrl,
  }, async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const gw = await startGateway(limited(up, 5, '2s'), {
      config: { redisUrl: redisUrl!, redisKeyPrefix: prefix },
    });
    const { Redis } = await import('ioredis');
    const admin = new Redis(redisUrl!);
    try {
      const name = `portico-gateway-${process.pid}-${prefix.replace(/[^A-Za-z0-9_-]/g, '')}`;
      const list = (await admin.call('CLIENT', 'LIST')) as string;
      const ids = list
        .split('\n')
        .filter((l) => l.includes(`name=${name} `))
        .map((l) => /id=(\d+)/.exec(l)![1]!);
      assert.equal(ids.length, 1, 'the gateway has one named connection');
      await admin.call('CLIENT', 'KILL', 'ID', ids[0]!);
      // every request is answered while the connection is down and while it comes back
      const statuses: number[] = [];
      const deadline = Date.now() + 5000;
      while (!statuses.includes(429)) {
        assert.ok(Date.now() < deadline, `the limit came back (${statuses.join(',')})`);
        statuses.push((await fetch(`${gw.url}/api/v1/limited`)).status);
      }
      assert.ok(statuses.every((s) => s === 200 || s === 429));
    } finally {
      admin.disconnect();
      await gw.close();
    }
  });

  test('Redis unreachable: the gateway starts and keeps serving, and says so in logs, /health and /metrics', async () => {
    const logs: string[] = [];
    const gw = await startGateway(limited(up, 2), {
      config: { redisUrl: 'redis://127.0.0.1:1', logLevel: 'warn' },
      logStream: { write: (line) => void logs.push(line) },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${gw.url}/api/v1/limited`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200], 'fails open');
      const health = await json(await fetch(`${gw.operatorUrl}/health`));
      assert.equal(health.status, 'degraded');
      const store = health.store as { backend: string; status: string; impact: string };
      assert.equal(store.backend, 'redis');
      assert.equal(store.status, 'unhealthy');
      assert.match(store.impact, /fail open/);
      const metrics = await (await fetch(`${gw.operatorUrl}/metrics`)).text();
      assert.equal(metric(metrics, 'gateway_ratelimit_decisions_total', { decision: 'failed_open' }), 5);
      assert.equal(
        metric(metrics, 'gateway_store_errors_total', { backend: 'redis', operation: 'rate-limit' }),
        5,
      );
      assert.equal(metric(metrics, 'gateway_store_up', { backend: 'redis' }), 0);
      const warnings = logs.map((line) => JSON.parse(line) as { level: number; msg: string });
      assert.ok(
        warnings.some((w) => w.level === 40 && /rate limits fail open/.test(w.msg)),
        'a warning says so',
      );
    } finally {
      await gw.close();
    }
  });
});
