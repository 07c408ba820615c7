/**
 * RFC 8628 §3.5 at our token endpoint, on a real socket: the device authorization response
 * says `interval`; a device that polls sooner is answered `slow_down` (not yet, and slower),
 * one that waits is answered `authorization_pending` again, and a code the user has approved
 * gives its token at once however fast the device polls. Polls are counted where the login
 * throttle counts (the database, or Redis), so replicas agree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createBrowser } from '../src/cli/browser.ts';
import { type RunningIdentity, startIdentity, storageTargets } from './support/harness.ts';

// Long enough that two polls sent back to back land in one window on a loaded machine.
const INTERVAL = 8;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

for (const { name, target, overrides } of storageTargets()) {
  describe(`device polling: slow_down (${name})`, () => {
    let identity: RunningIdentity;

    before(async () => {
      identity = await startIdentity(target, { ...overrides, deviceFlow: { pollIntervalSeconds: INTERVAL } });
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
    });

    const form = (path: string, body: Record<string, string>) =>
      fetch(new URL(path, identity.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      });
    const poll = async (deviceCode: string) => {
      const res = await form('/token', {
        grant_type: DEVICE_GRANT,
        device_code: deviceCode,
        client_id: 'portico-cli',
      });
      return {
        status: res.status,
        cache: res.headers.get('cache-control'),
        body: (await res.json()) as never,
      };
    };

    test('sooner than interval: slow_down; after it: pending; approved: the token at once', async () => {
      const started = await form('/device/auth', { client_id: 'portico-cli', scope: 'openid orders:read' });
      assert.equal(started.status, 200);
      const device = (await started.json()) as {
        device_code: string;
        user_code: string;
        verification_uri: string;
        interval: number;
      };
      assert.equal(device.interval, INTERVAL);

      const first = await poll(device.device_code);
      const firstAnswered = Date.now();
      assert.equal(first.status, 400);
      assert.equal((first.body as { error: string }).error, 'authorization_pending');

      const second = await poll(device.device_code);
      assert.equal(second.status, 400);
      assert.equal((second.body as { error: string }).error, 'slow_down');
      assert.match(second.cache ?? '', /no-store/);

      // A device that waits `interval` from the poll that opened the window is not held back.
      const waitUntil = firstAnswered + INTERVAL * 1000 + 250;
      while (Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
      const third = await poll(device.device_code);
      assert.equal((third.body as { error: string }).error, 'authorization_pending');

      // Another device has its own window.
      const other = (await (
        await form('/device/auth', { client_id: 'portico-cli', scope: 'openid' })
      ).json()) as { device_code: string };
      assert.equal(
        ((await poll(other.device_code)).body as { error: string }).error,
        'authorization_pending',
      );

      await createBrowser().device(device.verification_uri, device.user_code, identity.login('alice'));
      const granted = await poll(device.device_code);
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      assert.ok((granted.body as { access_token: string }).access_token);
    });
  });
}
