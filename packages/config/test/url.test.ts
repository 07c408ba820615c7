import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  authSettings,
  ConfigError,
  type LoadOptions,
  loadConfig,
  Origin,
  Proxies,
  Resource,
  Type,
  Url,
} from '../src/index.ts';
import { configFiles } from './support/files.ts';

const Schema = Type.Object(
  {
    auth: authSettings(),
    upstream: Url('http', { default: 'http://127.0.0.1:8002', env: 'DEMO_UPSTREAM_URL' }),
    smtpUrl: Url('smtp', { orEmpty: true, default: '', env: 'DEMO_SMTP_URL' }),
    publicUrl: Origin({ default: 'http://localhost:3000', env: 'DEMO_PUBLIC_URL' }),
    resource: Resource({ default: 'http://localhost:8000', env: 'DEMO_RESOURCE' }),
    trustedProxies: Proxies({ hops: true, default: '', env: 'DEMO_TRUSTED_PROXIES' }),
    proxyCidrs: Proxies({ default: '', env: 'DEMO_PROXY_CIDRS' }),
  },
  { additionalProperties: false },
);

const { file } = configFiles();

function refused(options: LoadOptions<typeof Schema>): string[] {
  try {
    loadConfig('demo', Schema, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  assert.fail(`accepted ${JSON.stringify(options)}`);
}

describe('settings that hold URLs', () => {
  test('a bad value of each kind is refused, naming the key, what it must be and where it came from', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ AUTH_ISSUER: 'y' }, 'auth.issuer must be an http:// or https:// URL (from AUTH_ISSUER="y")'],
      [
        { AUTH_JWKS_URI: 'ftp://idp/jwks' },
        'auth.jwksUri must be an http:// or https:// URL (from AUTH_JWKS_URI="ftp://idp/jwks")',
      ],
      [
        { DEMO_UPSTREAM_URL: 'http://' },
        'upstream must be an http:// or https:// URL (from DEMO_UPSTREAM_URL="http://")',
      ],
      [
        { DEMO_UPSTREAM_URL: 'http://catalog:99999' },
        'upstream must be an http:// or https:// URL (from DEMO_UPSTREAM_URL="http://catalog:99999")',
      ],
      [
        { REDIS_URL: 'localhost:6379' },
        'auth.redisUrl must be a redis:// or rediss:// URL, or empty (from REDIS_URL="localhost:6379")',
      ],
      [
        { DEMO_SMTP_URL: 'mail.example.com' },
        'smtpUrl must be an smtp:// or smtps:// URL, or empty (from DEMO_SMTP_URL="mail.example.com")',
      ],
      [
        { DEMO_PUBLIC_URL: 'https://console.example.com/' },
        'publicUrl must be an origin: http(s)://host[:port], with no path, not even a trailing / (from DEMO_PUBLIC_URL="https://console.example.com/")',
      ],
      [
        { AUTH_DPOP_ORIGINS: 'https://api.example.com, https://api.example.com/v1' },
        'auth.dpopOrigins must be comma-separated origins, each http(s)://host[:port] with no path, not even a trailing / (from AUTH_DPOP_ORIGINS="https://api.example.com, https://api.example.com/v1")',
      ],
      [
        { DEMO_RESOURCE: 'https://api.example.com#x' },
        'resource must be an absolute URI with no fragment (RFC 8707 resource) (from DEMO_RESOURCE="https://api.example.com#x")',
      ],
      [
        { DEMO_TRUSTED_PROXIES: '10.0.0.0/8, proxy.internal' },
        'trustedProxies must be a hop count, or comma-separated addresses, CIDRs or loopback/linklocal/uniquelocal (from DEMO_TRUSTED_PROXIES="10.0.0.0/8, proxy.internal")',
      ],
      [
        { DEMO_PROXY_CIDRS: '2' },
        'proxyCidrs must be comma-separated addresses, CIDRs or loopback/linklocal/uniquelocal (from DEMO_PROXY_CIDRS="2")',
      ],
    ];
    for (const [env, issue] of cases) assert.deepEqual(refused({ env }), [issue]);
  });

  test('a bad value from a file names the file', () => {
    const path = file('bad.yaml', 'auth: { redisUrl: "http://cache:6379" }\npublicUrl: console\n');
    assert.deepEqual(refused({ env: {}, file: path }), [
      `auth.redisUrl must be a redis:// or rediss:// URL, or empty (from file ${path})`,
      `publicUrl must be an origin: http(s)://host[:port], with no path, not even a trailing / (from file ${path})`,
    ]);
  });

  test('good values load, and the empty values that mean off stay valid', () => {
    const config = loadConfig('demo', Schema, {
      env: {
        AUTH_ISSUER: 'https://idp.example.com/realms/portico',
        REDIS_URL: 'rediss://user:secret@cache.example.com:6380/2',
        AUTH_DPOP_ORIGINS: ' https://api.example.com, http://[::1]:8000 ',
        DEMO_SMTP_URL: 'smtps://user:pass@mail.example.com:465',
        DEMO_RESOURCE: 'urn:portico:api',
        DEMO_TRUSTED_PROXIES: '2',
        DEMO_PROXY_CIDRS: 'loopback, 10.0.0.0/8, fd00::/8',
      },
    });
    assert.equal(config.auth.redisUrl, 'rediss://user:secret@cache.example.com:6380/2');
    assert.equal(config.auth.dpopOrigins, ' https://api.example.com, http://[::1]:8000 ');

    const off = loadConfig('demo', Schema, {
      env: { REDIS_URL: '', DEMO_SMTP_URL: '', AUTH_DPOP_ORIGINS: '', DEMO_TRUSTED_PROXIES: '' },
      file: file('off.yaml', 'auth: { redisUrl: "", dpopOrigins: "" }\nsmtpUrl: ""\ntrustedProxies: ""\n'),
    });
    assert.deepEqual(
      [off.auth.redisUrl, off.auth.dpopOrigins, off.smtpUrl, off.trustedProxies, off.proxyCidrs],
      ['', '', '', '', ''],
    );
  });
});

describe('the token audience and DPoP origins', () => {
  test('any audience is a legal aud, but one that is no http(s) URL needs AUTH_DPOP_ORIGINS', () => {
    const rule =
      'auth.audience is not an http(s) URL to take the DPoP origin from, so auth.dpopOrigins (AUTH_DPOP_ORIGINS) must list the public origins clients address';
    assert.deepEqual(refused({ env: { AUTH_AUDIENCE: 'y' } }), [`${rule} (from AUTH_AUDIENCE="y")`]);
    assert.deepEqual(refused({ env: { AUTH_AUDIENCE: 'urn:portico:api' } }), [
      `${rule} (from AUTH_AUDIENCE="urn:portico:api")`,
    ]);
    const path = file('aud.yaml', 'auth: { audience: portico-api }\n');
    assert.deepEqual(refused({ env: {}, file: path }), [`${rule} (from file ${path})`]);

    const listed = loadConfig('demo', Schema, {
      env: { AUTH_AUDIENCE: 'urn:portico:api', AUTH_DPOP_ORIGINS: 'https://api.example.com' },
    });
    assert.deepEqual(
      [listed.auth.audience, listed.auth.dpopOrigins],
      ['urn:portico:api', 'https://api.example.com'],
    );
    // An http(s) audience gives the origin itself, path or not.
    assert.equal(
      loadConfig('demo', Schema, { env: { AUTH_AUDIENCE: 'https://api.example.com/v1' } }).auth.dpopOrigins,
      '',
    );
  });

  test('a listed origin that is bad is said as such, not as the missing list', () => {
    assert.deepEqual(refused({ env: { AUTH_AUDIENCE: 'y', AUTH_DPOP_ORIGINS: 'api.example.com' } }), [
      'auth.dpopOrigins must be comma-separated origins, each http(s)://host[:port] with no path, not even a trailing / (from AUTH_DPOP_ORIGINS="api.example.com")',
    ]);
  });
});
