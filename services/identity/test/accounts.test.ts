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
import { openDatabase } from '@portico/store/sql';
import { databaseTargets, redisTestUrl } from '@portico/store/testing';
import { Redis } from 'ioredis';
import { migrations } from '../migrations/index.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { type AttemptCounter, memoryAttempts, redisAttempts, sqlAttempts } from '../src/domain/attempts.ts';
import { readDemoLogins } from '../src/domain/demo.ts';
import { hashPassword, needsRehash, verifyPassword } from '../src/domain/passwords.ts';
import { createThrottle } from '../src/domain/throttle.ts';
import { atLoginForm, type RunningIdentity, startIdentity } from './support/harness.ts';

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

describe('throttle: attempts counted atomically before the password is checked', () => {
  const counters: Array<[string, () => Promise<AttemptCounter>]> = [['memory', async () => memoryAttempts()]];
  const cleanups: Array<() => Promise<void>> = [];
  for (const makeTarget of databaseTargets()) {
    counters.push([
      `sql ${makeTarget().name}`,
      async () => {
        const target = makeTarget();
        const database = openDatabase<IdentityDatabase>({ url: target.url, schema: target.schema });
        await database.migrate(migrations);
        cleanups.push(async () => {
          await database.close();
          await target.cleanup();
        });
        return sqlAttempts(database);
      },
    ]);
  }
  const redisUrl = redisTestUrl();
  if (redisUrl) {
    counters.push([
      'redis',
      async () => {
        const redis = new Redis(redisUrl);
        cleanups.push(async () => void (await redis.quit()));
        return redisAttempts(redis, `test:${randomBytes(6).toString('hex')}:`);
      },
    ]);
  }
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  for (const [name, makeCounter] of counters) {
    test(`10 parallel attempts on one account, then on one IP: exactly the limit pass (${name})`, async () => {
      const throttle = createThrottle({
        maxFailuresPerAccount: 5,
        maxFailuresPerIp: 5,
        windowSeconds: 60,
        counter: await makeCounter(),
      });
      const account = await Promise.all(
        Array.from({ length: 10 }, (_, i) => throttle.attempt('alice', `10.0.0.${i}`)),
      );
      assert.equal(account.filter((wait) => wait === 0).length, 5, account.join(','));
      assert.ok(account.filter((wait) => wait > 0).every((wait) => wait <= 60));
      const ip = await Promise.all(
        Array.from({ length: 10 }, (_, i) => throttle.attempt(`user${i}`, '10.9.9.9')),
      );
      assert.equal(ip.filter((wait) => wait === 0).length, 5, ip.join(','));
    });
  }

  test('a window opened by a concurrent attempt a few ms later never asks for more than the window', async () => {
    // What the store answers when another attempt, whose clock read came later, opened the window.
    const late = {
      add: async (_key: string, now: number, windowMs: number) => ({ count: 9, resetAt: now + windowMs + 7 }),
    };
    const throttle = createThrottle({
      maxFailuresPerAccount: 5,
      maxFailuresPerIp: 5,
      windowSeconds: 60,
      counter: { ...late, clear: async () => {}, remove: async () => {} },
    });
    assert.equal(await throttle.attempt('alice', '10.0.0.1'), 60);
  });

  for (const [name, makeCounter] of counters.filter(([n]) => n !== 'redis')) {
    test(`per account and per IP, until the window closes; a success clears the account (${name})`, async () => {
      let now = 1_000_000;
      const throttle = createThrottle({
        maxFailuresPerAccount: 3,
        maxFailuresPerIp: 5,
        windowSeconds: 60,
        counter: await makeCounter(),
        now: () => now,
      });
      for (let i = 0; i < 3; i++) assert.equal(await throttle.attempt('alice', '10.0.0.1'), 0);
      assert.equal(await throttle.attempt('ALICE', '10.0.0.9'), 60, 'usernames are case-insensitive');
      assert.equal(await throttle.attempt('bob', '10.0.0.9'), 0);
      assert.equal(await throttle.attempt('carol', '10.0.0.1'), 0, 'the IP has 4 attempts');
      assert.equal(await throttle.attempt('dave', '10.0.0.1'), 0, 'the IP has 5 attempts');
      assert.ok((await throttle.attempt('erin', '10.0.0.1')) > 0, 'the 6th from the IP is refused');
      now += 30_000;
      assert.equal(await throttle.attempt('alice', '10.0.0.9'), 30);
      now += 31_000;
      assert.equal(await throttle.attempt('alice', '10.0.0.7'), 0, 'a new window');
      await throttle.succeed('alice', '10.0.0.7');
      for (let i = 0; i < 3; i++) assert.equal(await throttle.attempt('alice', '10.0.0.8'), 0);
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
      const { browser, interaction } = await atLoginForm(identity.issuer);
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
      // It works without JavaScript: the only scripts are this origin's files for the passkey
      // button, which stays hidden until they show it; none inline, and the CSP allows no other.
      const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!.trim());
      assert.deepEqual(scripts, ['src="/passkeys/webauthn.js" defer', 'src="/passkeys/passkeys.js" defer']);
      assert.match(html, /<form id="passkey-form"[^>]*hidden>/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    });

    test('a form post over 16 KiB is 413, another body type 415, both problem+json', async () => {
      const url = new URL('/account/reset', identity.issuer);
      const big = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `username=${'a'.repeat(17 * 1024)}`,
      });
      assert.equal(big.status, 413);
      assert.match(big.headers.get('content-type') ?? '', /application\/problem\+json/);
      const text = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      assert.equal(text.status, 415);
      assert.match(text.headers.get('content-type') ?? '', /application\/problem\+json/);
    });

    test('the pages and their scripts carry their security headers', async () => {
      const { browser, interaction } = await atLoginForm(identity.issuer);
      const framedByNoOne = { 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff' };
      const headersOf = (res: Response, names: string[]) =>
        Object.fromEntries(names.map((name) => [name, res.headers.get(name)]));
      const names = [
        'content-security-policy',
        'referrer-policy',
        'x-frame-options',
        'x-content-type-options',
      ];
      // The sign-in page runs this origin's passkey scripts, and fetches from it; nothing else.
      assert.deepEqual(headersOf(await browser.request(interaction), names), {
        'content-security-policy':
          "default-src 'none';style-src 'unsafe-inline';script-src 'self';connect-src 'self';frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
        ...framedByNoOne,
      });
      // A page without script: none at all.
      const reset = await fetch(new URL('/account/reset', identity.issuer));
      assert.equal(reset.status, 200);
      assert.equal(reset.headers.get('cache-control'), 'no-store');
      assert.deepEqual(headersOf(reset, names), {
        'content-security-policy': "default-src 'none';style-src 'unsafe-inline';frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
        ...framedByNoOne,
      });
      const script = await fetch(new URL('/passkeys/passkeys.js', identity.issuer));
      assert.equal(script.status, 200);
      assert.equal(script.headers.get('cache-control'), 'no-cache');
      assert.equal(script.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(script.headers.get('cross-origin-resource-policy'), 'same-origin');
    });

    test('wrong passwords are answered 401, then 429 with Retry-After, even for the right password', async () => {
      const { browser, loginUrl } = await atLoginForm(identity.issuer);
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

    test('8 parallel wrong passwords for one account: as many 401s as the limit, the rest 429', async () => {
      const { browser, loginUrl } = await atLoginForm(identity.issuer);
      const statuses = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const response = await browser.request(loginUrl, {
            username: 'parallel-target',
            password: `guess ${i}`,
          });
          await response.arrayBuffer();
          return response.status;
        }),
      );
      assert.deepEqual(
        statuses.toSorted(),
        [401, 401, 401, 429, 429, 429, 429, 429],
        'the limit is 3 per account here',
      );
    });

    test('unknown usernames fail like wrong passwords', async () => {
      const { browser, loginUrl } = await atLoginForm(identity.issuer);
      const response = await browser.request(loginUrl, {
        username: 'mallory',
        password: 'x',
      });
      assert.equal(response.status, 401);
      assert.match(await response.text(), /Wrong username or password/);
    });
  });
}
