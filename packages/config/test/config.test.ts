import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, type LoadOptions, loadConfig, serviceSettings, Type } from '../src/index.ts';
import { configFiles } from './support/files.ts';

const Schema = Type.Object(
  {
    ...serviceSettings('demo', 8100),
    retries: Type.Integer({ minimum: 0, maximum: 5, default: 1, env: 'DEMO_RETRIES' }),
    nested: Type.Object(
      { enabled: Type.Boolean({ default: false, env: 'DEMO_ENABLED' }), name: Type.String({ default: 'x' }) },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const { dir, file } = configFiles();

test('defaults, then the file, then the environment, then overrides', () => {
  assert.equal(loadConfig('demo', Schema, { env: {} }).port, 8100);
  const yaml = file('a.yaml', 'retries: 2\nnested: { name: from-file }\n');
  const fromFile = loadConfig('demo', Schema, { env: {}, file: yaml });
  assert.equal(fromFile.retries, 2);
  assert.equal(fromFile.nested.name, 'from-file');
  const fromEnv = loadConfig('demo', Schema, {
    env: { DEMO_RETRIES: '3', DEMO_ENABLED: 'true' },
    file: yaml,
  });
  assert.equal(fromEnv.retries, 3, 'the environment wins over the file');
  assert.equal(fromEnv.nested.enabled, true);
  assert.equal(fromEnv.nested.name, 'from-file');
  const overridden = loadConfig('demo', Schema, { env: { DEMO_RETRIES: '3' }, overrides: { retries: 4 } });
  assert.equal(overridden.retries, 4);
  assert.equal(loadConfig('demo', Schema, { env: {}, file: file('b.json', '{"port": 9}') }).port, 9);
});

test('the operator port follows a public port set at run time, unless it is set too', () => {
  const load = (options: LoadOptions<typeof Schema>) => {
    const { port, operatorPort } = loadConfig('demo', Schema, options);
    return [port, operatorPort];
  };
  assert.deepEqual(load({ env: {} }), [8100, 18100]);
  assert.deepEqual(load({ env: { DEMO_PORT: '8200' } }), [8200, 18200]);
  assert.deepEqual(load({ env: { DEMO_PORT: '8200', DEMO_OPERATOR_PORT: '9999' } }), [8200, 9999]);
  assert.deepEqual(load({ env: {}, overrides: { port: 0 } }), [0, 0]);
  assert.deepEqual(load({ env: { DEMO_PORT: '60000' } }), [60000, 0]);
  assert.deepEqual(load({ env: {}, file: file('port.yaml', 'port: 8300\n') }), [8300, 18300]);
});

test('overrides are copied: defaults filled in for one service never reach the object the caller passed', () => {
  const nested = { name: 'shared' };
  const config = loadConfig('demo', Schema, { env: {}, overrides: { nested } });
  assert.deepEqual(config.nested, { enabled: false, name: 'shared' });
  assert.deepEqual(nested, { name: 'shared' }, 'the caller’s object gained no default');
});

test('a bad value stops start-up with a message naming the key and where it came from', () => {
  const cases: Array<[Parameters<typeof loadConfig>[2], RegExp]> = [
    [{ env: { DEMO_PORT: 'abc' } }, /port .*\(from DEMO_PORT="abc"\)/],
    [{ env: { DEMO_RETRIES: '9' } }, /retries must be <= 5 \(from DEMO_RETRIES="9"\)/],
    [{ env: { DATABASE_URL: 'mysql://x' } }, /databaseUrl must be sqlite:<path> or a postgres:\/\/ URL/],
    [{ env: { DATABASE_URL: 'postgres://db:99999/x' } }, /databaseUrl must be .*\(from DATABASE_URL=/],
    [{ env: {}, file: file('c.yaml', 'retries: -1\n') }, /retries must be >= 0 \(from file .*c\.yaml\)/],
    [{ env: {}, file: file('d.yaml', 'colour: red\n') }, /unknown key colour/],
    [{ env: {}, file: file('e.yaml', 'nested: { nmae: typo }\n') }, /unknown key nested\.nmae/],
    [{ env: {}, file: file('f.yaml', 'retries: [1,\n') }, /cannot parse .*f\.yaml/],
    [{ env: {}, file: file('g.yaml', '- a list\n') }, /top level must be a mapping/],
    [{ env: {}, file: join(dir, 'missing.yaml') }, /cannot read .*missing\.yaml/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => loadConfig('demo', Schema, options),
      (err: unknown) =>
        err instanceof ConfigError &&
        message.test(err.message) &&
        err.message.startsWith('invalid demo configuration'),
      String(message),
    );
  }
});
