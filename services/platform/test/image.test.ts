/**
 * The image, built and run: deploy/image/build.sh makes it (CI builds it first and passes
 * its tag in PORTICO_IMAGE), deploy/image/run.sh starts containers the way docs/deploy.md
 * does — host networking, read-only root, the data volume — on free loopback ports.
 * Without Docker this file skips, except in CI, where it must run.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '@portico/http/testing';
import { databaseTargets, redisTestUrl } from '@portico/store/testing';
import pg from 'pg';

const root = join(import.meta.dirname, '../../..');
const run = promisify(execFile);
const hasDocker = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
const skip =
  !hasDocker && process.env.CI !== 'true'
    ? 'Docker is not available here (install docker.io and start dockerd); CI runs these tests'
    : false;

const prefix = `portico-test-${randomBytes(4).toString('hex')}`;
const started: string[] = [];
let image = process.env.PORTICO_IMAGE ?? '';

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Starts a container with deploy/image/run.sh, as the docs do; returns its name. */
async function start(name: string, service: string | undefined, env: Record<string, string>, opts = '') {
  const container = `${prefix}-${name}`;
  started.push(container);
  const args = [
    container,
    ...(service ? [service] : []),
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
  ];
  await run(join(root, 'deploy/image/run.sh'), args, {
    env: { ...process.env, PORTICO_IMAGE: image, PORTICO_RUN_OPTS: opts },
  });
  return container;
}

/** `count` distinct loopback ports free right now (the containers share the host's network). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** The last lines a container logged, headed by its name. */
function tail(container: string, lines = 30): string {
  const logs = spawnSync('docker', ['logs', '--tail', String(lines), container], { encoding: 'utf8' });
  return `--- ${container}\n${logs.stdout}${logs.stderr}`;
}

/** Polls until the container's HEALTHCHECK says healthy; fails at once if it exits. */
async function healthy(container: string, deadlineMs = 360_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const [status, health] = (
      await docker('inspect', '-f', '{{.State.Status}} {{.State.Health.Status}}', container)
    ).split(' ');
    if (health === 'healthy') return Date.now() - t0;
    if (status !== 'running' || Date.now() - t0 > deadlineMs) {
      const checks = spawnSync('docker', ['inspect', '-f', '{{json .State.Health.Log}}', container], {
        encoding: 'utf8',
      });
      assert.fail(`${container} is ${status}/${health}:\n${tail(container, 40)}\nchecks: ${checks.stdout}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** SIGTERM, then how long the container took to exit and with what code. */
async function terminate(container: string): Promise<{ ms: number; code: number }> {
  const t0 = Date.now();
  await docker('kill', '--signal', 'TERM', container);
  for (;;) {
    const [status, code] = (
      await docker('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', container)
    ).split(' ');
    if (status === 'exited') return { ms: Date.now() - t0, code: Number(code) };
    if (Date.now() - t0 > 30_000) assert.fail(`${container} still ${status} 30 s after SIGTERM`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs node inside the container (there is no shell in the image). */
const inside = (container: string, script: string) => docker('exec', container, 'node', '-e', script);

const services = ['identity', 'users', 'catalog', 'orders', 'payments', 'gateway', 'web'] as const;

/**
 * Free loopback ports for the seven services, the settings that point them at each other
 * (what the embedded defaults do on the default ports), and a gateway file naming them.
 */
async function layout(t: TestContext) {
  // Public and operator ports both: the operator default (public default + 10000) may be taken.
  const free = await freePorts(services.length * 2);
  const ports = Object.fromEntries(services.map((s, i) => [s, free[i]!])) as Record<
    (typeof services)[number],
    number
  >;
  const { identity, users, catalog, orders, payments, gateway, web } = ports;
  const local = (port: number) => `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'portico-image-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gatewayFile = readFileSync(join(root, 'services/gateway/gateway.yaml'), 'utf8')
    .replaceAll('127.0.0.1:8001', `127.0.0.1:${users}`)
    .replaceAll('127.0.0.1:8002', `127.0.0.1:${catalog}`)
    .replaceAll('127.0.0.1:8003', `127.0.0.1:${orders}`)
    .replaceAll('127.0.0.1:8004', `127.0.0.1:${payments}`);
  writeFileSync(join(dir, 'gateway.yaml'), gatewayFile, { mode: 0o644 });
  const env: Record<string, string> = {
    ...Object.fromEntries(services.map((s) => [`${s.toUpperCase()}_PORT`, `${ports[s]}`])),
    ...Object.fromEntries(
      services.map((s, i) => [`${s.toUpperCase()}_OPERATOR_PORT`, `${free[services.length + i]}`]),
    ),
    GATEWAY_FILE: '/etc/portico/gateway.yaml',
    IDENTITY_ISSUER: local(identity),
    IDENTITY_API_AUDIENCE: local(gateway),
    AUTH_ISSUER: local(identity),
    AUTH_AUDIENCE: local(gateway),
    AUTH_JWKS_URI: `${local(identity)}/jwks`,
    ORDERS_URL: local(orders),
    CATALOG_URL: local(catalog),
    PAYMENTS_TOKEN_URL: `${local(identity)}/token`,
    WEB_PUBLIC_URL: local(web),
    WEB_GATEWAY_URL: local(gateway),
    WEB_OIDC_ISSUER: local(identity),
  };
  return { ports, env, mount: `-v ${join(dir, 'gateway.yaml')}:/etc/portico/gateway.yaml:ro` };
}

describe('the image', { skip }, () => {
  before(
    () => {
      if (!image) {
        image = execFileSync(join(root, 'deploy/image/build.sh'), {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        }).trim();
      }
    },
    { timeout: 1_200_000 },
  );
  after(() => {
    for (const container of started) {
      spawnSync('docker', ['rm', '--force', '--volumes', container], { stdio: 'ignore' });
      spawnSync('docker', ['volume', 'rm', '--force', `${container}-data`], { stdio: 'ignore' });
    }
  });

  test('small, production dependencies only, non-root, with a HEALTHCHECK', async () => {
    const config = JSON.parse(await docker('image', 'inspect', '-f', '{{json .Config}}', image));
    assert.equal(config.User, '10001:10001');
    assert.deepEqual(config.Healthcheck.Test, ['CMD', 'node', 'deploy/image/health.ts']);
    const size = Number(await docker('image', 'inspect', '-f', '{{.Size}}', image));
    console.log(`image ${image}: ${(size / 1e6).toFixed(0)} MB`);
    assert.ok(size < 350e6, `${(size / 1e6).toFixed(0)} MB`);
    /** Which of these packages the image's node_modules holds. */
    const installed = async (names: string[]) =>
      await docker(
        'run',
        '--rm',
        '--entrypoint',
        'node',
        image,
        '-p',
        `${JSON.stringify(names)}.filter((m) => require('fs').existsSync('node_modules/' + m + '/package.json')).join(' ')`,
      );
    const devOnly = [
      'typescript',
      '@biomejs/biome',
      'playwright-core',
      'node',
      'autocannon',
      'kubernetes-models',
    ];
    assert.equal(
      await installed([...devOnly, 'fastify', 'pg']),
      'fastify pg',
      'only production dependencies',
    );
    // Every workspace is linked where its importers look for it.
    const workspaces = ['packages', 'services'].flatMap((group) =>
      readdirSync(join(root, group)).map((dir) => {
        const manifest = JSON.parse(readFileSync(join(root, group, dir, 'package.json'), 'utf8'));
        return manifest.name as string;
      }),
    );
    const linked = await installed(workspaces);
    assert.equal(linked, workspaces.join(' '));
  });

  test('an unknown service name exits 64 with the usage', () => {
    const result = spawnSync('docker', ['run', '--rm', '--network', 'none', image, 'nope'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 64);
    assert.match(result.stderr, /usage: portico \[SERVICE \| migrate SERVICE\]/);
  });

  test('no arguments: the embedded platform, healthy on a read-only root as non-root, serving through the gateway, stopped by SIGTERM', {
    timeout: 480_000,
  }, async (t) => {
    const { ports, env, mount } = await layout(t);
    const local = (port: number) => `http://127.0.0.1:${port}`;
    const { gateway, web } = ports;
    const container = await start('platform', undefined, env, mount);
    const ms = await healthy(container);
    console.log(`embedded platform healthy in ${ms} ms`);

    const products = await fetch(`${local(gateway)}/api/v1/products?per_page=5`);
    assert.equal(products.status, 200, await products.clone().text());
    const body = (await products.json()) as { data: Array<{ id: string; name: string }> };
    assert.ok(body.data.length > 0, 'the demo catalog answers through the gateway');
    const one = await fetch(`${local(gateway)}/api/v1/products/${body.data[0]!.id}`);
    assert.equal(one.status, 200);
    assert.ok(one.headers.get('etag'));
    const graphql = await fetch(`${local(gateway)}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ categories { id name } }' }),
    });
    assert.equal(graphql.status, 200, await graphql.clone().text());
    const console_ = await fetch(`${local(web)}/health`);
    assert.equal(console_.status, 200);

    // PID 1 runs as the image's user; the root filesystem refuses writes; the volume takes them.
    const status = await inside(
      container,
      `process.stdout.write(require('fs').readFileSync('/proc/1/status', 'utf8'))`,
    );
    assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    const write = spawnSync(
      'docker',
      ['exec', container, 'node', '-e', `require('fs').writeFileSync('/app/x', '')`],
      {
        encoding: 'utf8',
      },
    );
    assert.notEqual(write.status, 0);
    assert.match(write.stderr, /EROFS/);
    const data = await inside(container, `console.log(require('fs').readdirSync('/data').join(' '))`);
    for (const file of ['catalog.db', 'identity-keys.json', 'client-secrets.json'])
      assert.ok(data.includes(file), data);

    const stop = await terminate(container);
    console.log(`embedded platform stopped ${stop.ms} ms after SIGTERM, exit ${stop.code}`);
    assert.equal(stop.code, 0);
    assert.ok(stop.ms < 8000, `${stop.ms} ms`);
  });

  test('one service per container, on PostgreSQL and Redis: migrated by the init step, a token from identity accepted through the gateway, stopped by SIGTERM', {
    timeout: 720_000,
  }, async (t) => {
    const target = databaseTargets()
      .map((make) => make())
      .find((d) => d.name === 'postgres');
    const redis = redisTestUrl();
    if (!target || !redis) {
      t.skip('TEST_DATABASE_URL and TEST_REDIS_URL are needed (CI sets them)');
      return;
    }
    const schemas = services.filter((s) => s !== 'gateway').map((s) => `${target.schema}_${s}`);
    t.after(async () => {
      const client = new pg.Client({ connectionString: target.url });
      await client.connect();
      for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    });
    const { ports, env: platform, mount } = await layout(t);
    const env: Record<string, string> = {
      ...platform,
      DATABASE_URL: target.url,
      REDIS_URL: redis,
      IDENTITY_REDIS_URL: redis,
      IDENTITY_REDIS_PREFIX: `${prefix}:identity:`,
      GATEWAY_REDIS_PREFIX: `${prefix}:gw:`,
      PUBSUB_KEY_PREFIX: `${prefix}:`,
      PORTICO_WEB_CLIENT_SECRET: randomBytes(24).toString('base64url'),
      PORTICO_SERVICE_CLIENT_SECRET: randomBytes(24).toString('base64url'),
      GRAPHQL_GRAPHIQL: 'false',
      GRAPHQL_INTROSPECTION: 'false',
      ...Object.fromEntries(
        services.map((s) => [`${s.toUpperCase()}_DATABASE_SCHEMA`, `${target.schema}_${s}`]),
      ),
    };

    // The init step a Kubernetes pod runs first: migrate, exit 0, serve nothing.
    const migrate = spawnSync(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'host',
        '--read-only',
        ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
        image,
        'migrate',
        'catalog',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(migrate.status, 0, migrate.stderr);
    assert.match(migrate.stdout, /catalog: migrations applied/);

    const containers = [];
    for (const service of services) containers.push(await start(service, service, env, mount));
    await Promise.all(containers.map((c) => healthy(c)));

    const api = `http://127.0.0.1:${ports.gateway}`;
    const categories = await fetch(`${api}/api/v1/categories`);
    assert.equal(categories.status, 200);
    assert.ok(((await categories.json()) as { data: unknown[] }).data.length > 0, 'seeded in PostgreSQL');
    const introspection = await fetch(`http://127.0.0.1:${ports.catalog}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });
    assert.match(await introspection.text(), /introspection/i, 'introspection is off');

    // A service token from the identity container, verified by the gateway and orders containers.
    const basic = Buffer.from(`portico-service:${env.PORTICO_SERVICE_CLIENT_SECRET}`).toString('base64');
    const token = await fetch(`http://127.0.0.1:${ports.identity}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: api }),
    });
    assert.equal(token.status, 200, await token.clone().text());
    const { access_token } = (await token.json()) as { access_token: string };
    const orders = await fetch(`${api}/api/v1/orders`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    // Their logs with the answer if it is not a 200: a failure here is otherwise only the problem.
    if (orders.status !== 200)
      assert.fail(
        `${orders.status}: ${await orders.text()}\n${['gateway', 'orders', 'identity'].map((s) => tail(`${prefix}-${s}`)).join('\n')}`,
      );
    const anonymous = await fetch(`${api}/api/v1/orders`);
    assert.equal(anonymous.status, 401);

    for (const container of containers) {
      const stop = await terminate(container);
      assert.equal(stop.code, 0, container);
      assert.ok(stop.ms < 8000, `${container}: ${stop.ms} ms`);
    }
  });
});
