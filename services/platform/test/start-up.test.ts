/**
 * A bad setting stops a service's process before anything starts, with the key named and no
 * stack trace: a service alone (packages/http run.ts), one whose build refuses a setting, and
 * the all-in-one `npm start`, which checks every service's settings before it starts any.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'portico-start-up-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const NAMES = ['identity', 'users', 'catalog', 'orders', 'payments', 'gateway', 'web'];
// Should a process start after all, it takes ports of its own and is stopped below.
const anyPort = Object.fromEntries(
  NAMES.flatMap((name) => [
    [`${name.toUpperCase()}_PORT`, '0'],
    [`${name.toUpperCase()}_OPERATOR_PORT`, '0'],
  ]),
);

async function run(
  main: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(AUTH_|REDIS_URL|PORTICO_|WEB_|GATEWAY_)/.test(key)),
  );
  const child = spawn(process.execPath, [join(root, main)], {
    env: { ...clean, ...anyPort, PORTICO_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // Generous for a loaded CI machine: a refused setting ends the process in well under a second.
  const stop = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(stop);
  return { code, output };
}

function refusedCleanly(result: { code: number | null; output: string }) {
  assert.equal(result.code, 1, result.output);
  assert.doesNotMatch(result.output, /\n\s+at /, 'no stack trace');
}

describe('a bad setting at start-up', () => {
  test('a service alone: an audience that cannot give the DPoP origin names AUTH_AUDIENCE', async () => {
    const result = await run('services/catalog/src/main.ts', { AUTH_AUDIENCE: 'y' });
    refusedCleanly(result);
    assert.match(result.output, /^invalid catalog configuration:/m);
    assert.match(
      result.output,
      /auth\.audience is not an http\(s\) URL.*auth\.dpopOrigins \(AUTH_DPOP_ORIGINS\)/,
    );
    assert.match(result.output, /\(from AUTH_AUDIENCE="y"\)/);
  });

  test("a setting only build can judge (web's client secret) is said the same way", async () => {
    const result = await run('services/web/src/main.ts', {});
    refusedCleanly(result);
    assert.match(
      result.output,
      /^invalid web configuration:\n {2}- oidc\.clientSecret needs 16\+ characters/m,
    );
  });

  test('a key file identity cannot read names IDENTITY_KEYS_FILE', async () => {
    const keys = join(dataDir, 'keys.json');
    writeFileSync(keys, '{ "signing": [\n');
    const result = await run('services/identity/src/main.ts', { IDENTITY_KEYS_FILE: keys });
    refusedCleanly(result);
    assert.match(
      result.output,
      /^invalid identity configuration:\n {2}- keysFile \(IDENTITY_KEYS_FILE=.*keys\.json\): /m,
    );
  });

  test('npm start: every service with a bad setting is named, before any of them starts', async () => {
    const result = await run('services/platform/src/main.ts', {
      AUTH_AUDIENCE: 'y',
      REDIS_URL: 'cache:6379',
    });
    refusedCleanly(result);
    for (const name of ['users', 'catalog', 'orders', 'payments', 'gateway'])
      assert.match(result.output, new RegExp(`^invalid ${name} configuration:`, 'm'));
    assert.match(
      result.output,
      /serviceClient\.resource must be an absolute URI .*\(from AUTH_AUDIENCE="y"\)/,
    );
    assert.match(
      result.output,
      /revocations\.redisUrl must be a redis:\/\/ .*\(from REDIS_URL="cache:6379"\)/,
    );
    assert.doesNotMatch(result.output, /ready in/, 'nothing started');
  });
});
