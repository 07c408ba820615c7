/**
 * Accounts: scrypt hashes with their parameters, demo accounts created once with
 * random passwords, and login throttling per account and per IP as a user sees it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseTargets, redisTestUrl } from '@portico/store/testing';
import { Redis } from 'ioredis';
import { createBrowser } from '../src/cli/browser.ts';
import { readDemoLogins } from '../src/domain/demo.ts';
import { hashPassword, needsRehash, verifyPassword } from '../src/domain/passwords.ts';
import {
  createThrottle,
  type FailureLog,
  memoryFailureLog,
  redisFailureLog,
} from '../src/domain/throttle.ts';
import { type RunningIdentity, startIdentity, startSignIn } from './helpers.ts';

describe('password hashes', () => {
  test('scrypt with its parameters recorded; verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple');
    assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.equal(await verifyPassword('correct horse battery staple', hash), true);
    assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
    assert.equal(await verifyPassword('anything', 'not-a-hash'), false);
    assert.notEqual(await hashPassword('same'), await hashPassword('same'));
  });

  test('a hash made with weaker parameters is flagged for re-hashing', async () => {
    const weak = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    assert.equal(await verifyPassword('pw', weak), true);
    assert.equal(needsRehash(weak), true);
    assert.equal(needsRehash(await hashPassword('pw')), false);
  });
});

describe('throttle', () => {
  const logs: Array<[string, () => FailureLog]> = [['memory', memoryFailureLog]];
  const redisUrl = redisTestUrl();
  const clients: Redis[] = [];
  if (redisUrl) {
    logs.push([
      'redis',
      () => {
        const redis = new Redis(redisUrl);
        clients.push(redis);
        return redisFailureLog(redis, `test:${randomBytes(6).toString('hex')}:`);
      },
    ]);
  }
  after(async () => {
    for (const c of clients) await c.quit();
  });

  for (const [name, makeLog] of logs) {
    test(`per account and per IP, with the wait until the oldest failure ages out (${name})`, async () => {
      let now = 1_000_000;
      const throttle = createThrottle({
        maxFailuresPerAccount: 3,
        maxFailuresPerIp: 5,
        windowSeconds: 60,
        log: makeLog(),
        now: () => now,
      });
      for (let i = 0; i < 3; i++) await throttle.fail('alice', '10.0.0.1');
      assert.equal(await throttle.retryAfter('alice', '10.0.0.9'), 60);
      assert.equal(await throttle.retryAfter('ALICE', '10.0.0.9'), 60, 'usernames are case-insensitive');
      assert.equal(await throttle.retryAfter('bob', '10.0.0.9'), 0);
      for (let i = 0; i < 2; i++) await throttle.fail(`user${i}`, '10.0.0.1');
      assert.ok((await throttle.retryAfter('carol', '10.0.0.1')) > 0, 'the IP has 5 failures');
      now += 30_000;
      assert.equal(await throttle.retryAfter('alice', '10.0.0.9'), 30);
      now += 31_000;
      assert.equal(await throttle.retryAfter('alice', '10.0.0.1'), 0);
      await throttle.fail('dave', '10.0.0.2');
      await throttle.succeed('dave');
      assert.equal(await throttle.retryAfter('dave', '10.0.0.3'), 0);
    });
  }
});

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`accounts and login (${target.name})`, () => {
    let identity: RunningIdentity;
    const dir = mkdtempSync(join(tmpdir(), 'portico-identity-'));
    const loginsFile = join(dir, 'demo-logins.json');
    // A file, not :memory:, so that a second start sees the first one's accounts.
    const db = target.name === 'sqlite' ? { url: `sqlite:${join(dir, 'identity.db')}` } : target;

    before(async () => {
      identity = await startIdentity(db, {
        demoLoginsFile: loginsFile,
        throttle: { maxFailuresPerAccount: 3, maxFailuresPerIp: 50, windowSeconds: 600 },
      });
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('first start creates a customer and an admin with random passwords, kept in a 0600 file', async () => {
      const logins = identity.server.demoLogins;
      assert.deepEqual(
        logins.map((l) => [l.username, l.roles]),
        [
          ['alice', ['customer']],
          ['admin', ['admin']],
        ],
      );
      for (const l of logins) assert.match(l.password, /^[A-Za-z0-9]{20}$/);
      assert.notEqual(logins[0]!.password, logins[1]!.password);
      assert.deepEqual(readDemoLogins(loginsFile), logins);
      assert.equal(statSync(loginsFile).mode & 0o777, 0o600);
    });

    test('a second start on the same database creates nothing and prints no password', async () => {
      const again = await startIdentity(db, { demoLoginsFile: '' });
      try {
        assert.deepEqual(again.server.demoLogins, []);
      } finally {
        await again.close();
      }
    });

    test('the login page is plain accessible HTML', async () => {
      const browser = createBrowser();
      const interaction = await startSignIn(identity.issuer, browser);
      const page = await browser.request(interaction);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      const html = await page.text();
      assert.match(html, /<html lang="en">/);
      assert.match(html, /<label for="username">/);
      assert.match(html, /<input id="username" name="username"[^>]*autocomplete="username"/);
      assert.match(html, /<label for="password">/);
      assert.match(
        html,
        /<input id="password" name="password" type="password"[^>]*autocomplete="current-password"/,
      );
      assert.doesNotMatch(html, /<script/);
    });

    test('wrong passwords are answered 401, then 429 with Retry-After, even for the right password', async () => {
      const browser = createBrowser();
      const interaction = await startSignIn(identity.issuer, browser);
      const loginUrl = new URL(`${interaction.pathname}/login`, identity.issuer);
      for (let i = 0; i < 3; i++) {
        const response = await browser.request(loginUrl, { username: 'admin', password: `guess ${i}` });
        assert.equal(response.status, 401);
        assert.match(await response.text(), /role="alert"[^>]*>Wrong username or password/);
      }
      const blocked = await browser.request(loginUrl, {
        username: 'admin',
        password: identity.login('admin').password,
      });
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      // Another account from the same IP is not blocked by admin's failures.
      const other = await browser.request(loginUrl, {
        username: 'alice',
        password: identity.login('alice').password,
      });
      assert.equal(other.status, 303);
    });

    test('unknown usernames fail like wrong passwords', async () => {
      const browser = createBrowser();
      const interaction = await startSignIn(identity.issuer, browser);
      const response = await browser.request(new URL(`${interaction.pathname}/login`, identity.issuer), {
        username: 'mallory',
        password: 'x',
      });
      assert.equal(response.status, 401);
      assert.match(await response.text(), /Wrong username or password/);
    });
  });
}
