import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { banner } from '../src/banner.ts';
import { provideEmbeddedSecrets } from '../src/secrets.ts';

const urls = {
  identity: 'http://localhost:9000',
  users: 'http://localhost:8001',
  catalog: 'http://localhost:8002',
  orders: 'http://localhost:8003',
  payments: 'http://localhost:8004',
  gateway: 'http://localhost:8000',
  web: 'http://localhost:3000',
};

test('the banner: console, gateway, GraphiQL, docs, operator endpoints and the demo logins in one short block', () => {
  const first = banner({
    ms: 812,
    dataDir: '.data',
    urls,
    operators: Object.fromEntries(
      Object.entries(urls).map(([name, url]) => [
        name,
        `http://127.0.0.1:${Number(new URL(url).port) + 10_000}`,
      ]),
    ),
    logins: [
      { username: 'alice', password: 'pw-a', roles: ['customer'] },
      { username: 'admin', password: 'pw-b', roles: ['admin'] },
    ],
    loginsFile: '.data/identity-demo-logins.json',
  });
  assert.match(first, /ready in 812 ms/);
  assert.match(first, /console {3}http:\/\/localhost:3000/);
  assert.match(first, /GraphiQL {2}http:\/\/localhost:8000\/graphql/);
  assert.match(first, /alice {2}pw-a {3}\(customer\)/);
  assert.match(first, /identity :9000 · users :8001 · catalog :8002 · orders :8003 · payments :8004/);
  assert.match(first, /operator {2}http:\/\/127\.0\.0\.1:18000\/metrics · \/health · \/usage/);
  assert.match(
    first,
    /identity :19000 · users :18001 · catalog :18002 · orders :18003 · payments :18004 · web :13000/,
  );
  assert.doesNotMatch(
    first,
    /gateway .*\/metrics.*front door/,
    'the public port does not advertise /metrics',
  );
  assert.ok(first.split('\n').length <= 18, 'short');
  const traced = banner({
    ms: 1,
    dataDir: '.data',
    urls,
    operators: { gateway: 'http://127.0.0.1:18000' },
    logins: [],
    traces: true,
  });
  assert.match(traced, /operator {2}http:\/\/127\.0\.0\.1:18000\/metrics · \/health · \/traces · \/usage/);
  const later = banner({
    ms: 500,
    dataDir: '.data',
    urls,
    logins: [],
    loginsFile: '.data/identity-demo-logins.json',
  });
  assert.doesNotMatch(later, /pw-a/);
  assert.match(later, /passwords in \.data\/identity-demo-logins\.json/);
});

test('embedded client secrets: random, kept across starts (mode 0600), never overriding the environment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-platform-'));
  try {
    await chmod(dir, 0o755); // as an older version left it
    const env1: NodeJS.ProcessEnv = {};
    provideEmbeddedSecrets(dir, env1);
    assert.match(env1.PORTICO_WEB_CLIENT_SECRET!, /^[\w-]{43}$/);
    assert.notEqual(env1.PORTICO_WEB_CLIENT_SECRET, env1.PORTICO_SERVICE_CLIENT_SECRET);
    const file = join(dir, 'client-secrets.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700, 'the data directory is its owner’s alone');
    const env2: NodeJS.ProcessEnv = {};
    provideEmbeddedSecrets(dir, env2);
    assert.deepEqual(env2, env1, 'a second start keeps the secrets');
    const env3: NodeJS.ProcessEnv = { PORTICO_WEB_CLIENT_SECRET: 'from-the-operator' };
    provideEmbeddedSecrets(dir, env3);
    assert.equal(env3.PORTICO_WEB_CLIENT_SECRET, 'from-the-operator');
    assert.ok((await readFile(file, 'utf8')).includes(env1.PORTICO_WEB_CLIENT_SECRET!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
