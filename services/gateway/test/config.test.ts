import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, type LoadOptions, loadConfig } from '@portico/config';
import { ConfigSchema, EMBEDDED_FILE, loadGatewayFile } from '../src/config.ts';
import { json, startGateway, startUpstream } from './support/harness.ts';

function issues(source: unknown): string[] {
  try {
    loadGatewayFile(source as never);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('the definition was accepted');
}

describe('the gateway file', () => {
  test('the embedded default routes the whole platform with the seed limits and rules', () => {
    const file = loadGatewayFile(EMBEDDED_FILE);
    assert.deepEqual(Object.fromEntries(Object.entries(file.upstreams).map(([k, v]) => [k, v.instances])), {
      users: ['http://127.0.0.1:8001'],
      catalog: ['http://127.0.0.1:8002'],
      orders: ['http://127.0.0.1:8003'],
      payments: ['http://127.0.0.1:8004'],
      identity: ['http://127.0.0.1:9000'],
    });
    const route = (name: string) => file.routes.find((r) => r.name === name)!;
    assert.equal(route('users').rateLimit?.limit, 100);
    assert.equal(route('products').rateLimit?.limit, 200);
    assert.equal(route('orders').rateLimit?.limit, 50);
    assert.equal(route('dashboard').rateLimit?.limit, 30);
    assert.deepEqual(route('products').auth, { read: 'public', write: 'token' });
    assert.equal(route('graphql').websocket, true);
    assert.deepEqual(Object.keys(route('dashboard').aggregate!.branches), [
      'user_profile',
      'recent_orders',
      'recommendations',
    ]);
    for (const name of ['users', 'orders', 'payments', 'cart', 'dashboard'])
      assert.deepEqual(route(name).auth, { default: 'token' });
    assert.deepEqual(route('identity-admin').auth, { default: { roles: ['admin'] } });
  });

  test('errors name the bad key', () => {
    const base = { upstreams: { a: { instances: ['http://127.0.0.1:1'] } } };
    const validate = (value: unknown) =>
      issues({ ...base, routes: [{ name: 'r', path: '/r', upstream: 'a', validate: value }] });
    const shape =
      'routes.0.validate must be true, false or { requests: true | false, responses: "off" | "log" | "reject" }';
    assert.deepEqual(validate('yes'), [shape]);
    assert.deepEqual(validate({ responses: 'warn' }), [shape]);
    assert.deepEqual(validate({ request: true }), [shape, 'unknown key routes.0.validate.request']);
    assert.deepEqual(issues({ ...base, routes: [{ name: 'r', path: '/r', upstream: 'b' }] }), [
      'routes.0.upstream "b" is not in upstreams',
    ]);
    assert.match(
      issues({ ...base, routes: [{ name: 'r', path: '/r', upstream: 'a', ratelimit: {} }] }).join(),
      /routes\.0\.ratelimit/,
    );
    assert.match(
      issues({
        ...base,
        routes: [{ name: 'r', path: '/r', upstream: 'a', rateLimit: { limit: 0, window: '1m' } }],
      }).join(),
      /routes\.0\.rateLimit\.limit/,
    );
    assert.match(
      issues({ ...base, routes: [{ name: 'r', path: 'r', upstream: 'a' }] }).join(),
      /routes\.0\.path/,
    );
    // An instance is an origin as a pool is given one: no port past 65535, no path, no trailing /.
    for (const instance of ['ftp://x', 'http://x:99999', 'http://x/', 'http://x/api'])
      assert.deepEqual(issues({ upstreams: { a: { instances: [instance] } }, routes: [] }), [
        'upstreams.a.instances.0 must be an origin: http(s)://host[:port], with no path, not even a trailing /',
      ]);
    assert.match(
      issues({
        ...base,
        routes: [
          { name: 'r', path: '/r', upstream: 'a' },
          { name: 'r', path: '/s', upstream: 'a' },
        ],
      }).join(),
      /routes\.1\.name "r" is used by an earlier route/,
    );
  });

  test('reload: a good file is applied on SIGHUP and on change; a bad one is refused and the old keeps serving', async () => {
    const one = await startUpstream((_q, res) => void res.end('one'));
    const two = await startUpstream((_q, res) => void res.end('two'));
    const dir = mkdtempSync(join(tmpdir(), 'gw-reload-'));
    const file = join(dir, 'gateway.yaml');
    const yaml = (url: string) =>
      `upstreams:\n  svc: { instances: [${url}] }\nroutes:\n  - { name: r, path: /r, upstream: svc, auth: { default: public } }\n`;
    writeFileSync(file, yaml(one.url));
    const gw = await startGateway(undefined, { config: { file, watch: true } });
    const reloaded = () =>
      new Promise<void>((resolve) => {
        const before = gw.server.gateway.runtime;
        const poll = () => (gw.server.gateway.runtime !== before ? resolve() : setTimeout(poll, 10));
        poll();
      });
    try {
      assert.equal(await (await fetch(`${gw.url}/r`)).text(), 'one');

      // a change on disk (written elsewhere, then renamed in place, as editors do)
      const changed = reloaded();
      writeFileSync(`${file}.tmp`, yaml(two.url));
      renameSync(`${file}.tmp`, file);
      await changed;
      assert.equal(await (await fetch(`${gw.url}/r`)).text(), 'two');

      // a bad file: refused, reported in /health, the running config keeps serving
      writeFileSync(file, 'upstreams: {}\nroutes:\n  - { name: r, path: /r, upstream: nowhere }\n');
      const refused = await gw.server.gateway.reload();
      assert.equal(refused, false);
      assert.equal(await (await fetch(`${gw.url}/r`)).text(), 'two');
      const health = await json(await fetch(`${gw.operatorUrl}/health`));
      assert.match(
        (health.config as { last_reload_error: string }).last_reload_error,
        /routes\.0\.upstream "nowhere"/,
      );

      // SIGHUP applies the file as it is now
      writeFileSync(file, yaml(one.url));
      const hup = reloaded();
      process.kill(process.pid, 'SIGHUP');
      await hup;
      assert.equal(await (await fetch(`${gw.url}/r`)).text(), 'one');
      assert.equal(readFileSync(file, 'utf8'), yaml(one.url));
    } finally {
      await gw.close();
      await one.close();
      await two.close();
    }
  });

  test('in-flight requests finish across a reload', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const slow = await startUpstream((_q, res) => void held.then(() => res.end('finished')));
    const gw = await startGateway({
      upstreams: { svc: { instances: [slow.url] } },
      routes: [{ name: 'r', path: '/r', upstream: 'svc', auth: { default: 'public' } }],
    } as never);
    try {
      const pending = fetch(`${gw.url}/r`).then((r) => r.text());
      while (slow.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(
        await gw.server.gateway.reload({
          upstreams: { svc: { instances: [slow.url] } },
          routes: [{ name: 'r2', path: '/r', upstream: 'svc', auth: { default: 'public' } }],
        } as never),
        true,
      );
      release();
      assert.equal(await pending, 'finished');
    } finally {
      await gw.close();
      await slow.close();
    }
  });
});

describe("the gateway process's settings", () => {
  const issuesOf = (options: LoadOptions<typeof ConfigSchema>): string[] => {
    try {
      loadConfig('gateway', ConfigSchema, options);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.issues;
    }
    return assert.fail('the settings were accepted');
  };

  test('what the token verifier would throw on at start-up is refused by name, a secret never shown', () => {
    assert.deepEqual(issuesOf({ env: { AUTH_HS256_SECRET: 'too-short' } }), [
      'auth.hs256Secret must be empty or at least 32 bytes (from AUTH_HS256_SECRET)',
    ]);
    assert.deepEqual(issuesOf({ env: {}, overrides: { auth: { jwksUri: '' } } }), [
      'auth.jwksUri (AUTH_JWKS_URI) or auth.hs256Secret (AUTH_HS256_SECRET) must be set to check tokens with',
    ]);
    const hsOnly = loadConfig('gateway', ConfigSchema, {
      env: { AUTH_HS256_SECRET: 'x'.repeat(32) },
      overrides: { auth: { jwksUri: '' } },
    });
    assert.equal(hsOnly.auth.jwksUri, '');
  });

  test('URLs, origins and proxies are checked before anything starts', () => {
    assert.deepEqual(
      issuesOf({
        env: { AUTH_AUDIENCE: 'portico-api', REDIS_URL: 'cache:6379', GATEWAY_TRUSTED_PROXIES: 'lb' },
      }),
      [
        'redisUrl must be a redis:// or rediss:// URL, or empty (from REDIS_URL="cache:6379")',
        'trustedProxies must be a hop count, or comma-separated addresses, CIDRs or loopback/linklocal/uniquelocal (from GATEWAY_TRUSTED_PROXIES="lb")',
        'auth.audience is not an http(s) URL to take the DPoP origin from, so auth.dpopOrigins (AUTH_DPOP_ORIGINS) must list the public origins clients address (from AUTH_AUDIENCE="portico-api")',
      ],
    );
    const config = loadConfig('gateway', ConfigSchema, {
      env: {
        AUTH_AUDIENCE: 'portico-api',
        AUTH_DPOP_ORIGINS: 'https://api.example.com',
        GATEWAY_TRUSTED_PROXIES: '2',
      },
    });
    assert.equal(config.auth.dpopOrigins, 'https://api.example.com');
  });
});
