/**
 * Behind a proxy, the client address (what per-IP login throttling counts) is the rightmost
 * X-Forwarded-For entry the trusted proxies did not write: whatever a client puts on the
 * left is skipped. With the per-IP limit at 2, a guesser who writes a new address on the
 * left of each attempt is still refused on the third.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { atLoginForm, startIdentity } from './support/harness.ts';

async function loginAttempts(
  settings: { proxyHops?: number; trustedProxies?: string },
  forwardedFor: (i: number) => string,
): Promise<number[]> {
  const identity = await startIdentity(
    { url: 'sqlite::memory:' },
    {
      trustProxy: true,
      ...settings,
      throttle: { maxFailuresPerAccount: 100, maxFailuresPerIp: 2, windowSeconds: 600 },
    },
  );
  try {
    const { browser, interaction, loginUrl } = await atLoginForm(identity.issuer);
    await (await browser.request(interaction)).arrayBuffer();
    const cookie = [...browser.cookies()].map(([k, v]) => `${k}=${v}`).join('; ');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(loginUrl, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie,
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': forwardedFor(i),
        },
        body: new URLSearchParams({ username: `user${i}`, password: 'wrong' }).toString(),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    return statuses;
  } finally {
    await identity.close();
  }
}

describe('X-Forwarded-For, read from the right', () => {
  test('one trusted hop: a spoofed left entry changes nothing', async () => {
    const statuses = await loginAttempts({ proxyHops: 1 }, (i) => `198.51.100.${i}, 203.0.113.7`);
    assert.deepEqual(statuses, [401, 401, 429, 429]);
  });

  test('two trusted hops: the entry left of the inner proxy is the client', async () => {
    const statuses = await loginAttempts(
      { proxyHops: 2 },
      (i) => `198.51.100.${i}, 203.0.113.7, 10.0.0.${i}`,
    );
    assert.deepEqual(statuses, [401, 401, 429, 429]);
  });

  test('trusted proxies by CIDR: their entries are skipped wherever they are', async () => {
    const statuses = await loginAttempts(
      { trustedProxies: '127.0.0.0/8, 10.0.0.0/8' },
      (i) => `198.51.100.${i}, 203.0.113.7, 10.1.${i}.1, 10.2.0.${i}`,
    );
    assert.deepEqual(statuses, [401, 401, 429, 429]);
  });

  test('different clients behind the same proxy are counted apart', async () => {
    const statuses = await loginAttempts({ proxyHops: 1 }, (i) => `203.0.113.${i}`);
    assert.deepEqual(statuses, [401, 401, 401, 401]);
  });
});
