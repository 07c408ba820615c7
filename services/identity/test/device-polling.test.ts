/**
 * How `npm run -s token -- --device` polls (RFC 8628 §3.4–3.5), against an authorization server
 * on a real socket that answers as the RFC allows: `authorization_pending`, then `slow_down`,
 * then the token. The CLI's side of it is held here, with an `interval` of 1 s that our identity
 * service would not give (device-slow-down.test.ts holds the server's side): it waits `interval`
 * between polls and 5 s more after each `slow_down`. Gaps are measured at the server, where a
 * busy machine can only make them longer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const CLI = new URL('../src/cli/token.ts', import.meta.url).pathname;
const INTERVAL = 1;

describe('token CLI --device polling', () => {
  let server: Server;
  let issuer: string;
  const polls: number[] = [];
  const answers = ['authorization_pending', 'slow_down'];

  before(async () => {
    server = createServer((req, res) => {
      const json = (status: number, body: unknown) =>
        res
          .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify(body));
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      req.on('end', () => {
        if (req.url === '/.well-known/openid-configuration') {
          return json(200, {
            issuer,
            token_endpoint: `${issuer}/token`,
            device_authorization_endpoint: `${issuer}/device/auth`,
            token_endpoint_auth_methods_supported: ['none'],
          });
        }
        const form = new URLSearchParams(body);
        if (req.url === '/device/auth') {
          assert.equal(form.get('client_id'), 'portico-cli');
          return json(200, {
            device_code: 'device-code-1',
            user_code: 'BCDF-GHJK',
            verification_uri: `${issuer}/device`,
            expires_in: 120,
            interval: INTERVAL,
          });
        }
        if (req.url === '/token') {
          assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:device_code');
          assert.equal(form.get('device_code'), 'device-code-1');
          polls.push(performance.now());
          const error = answers[polls.length - 1];
          if (error) return json(400, { error });
          return json(200, { access_token: 'the-access-token', token_type: 'Bearer', expires_in: 60 });
        }
        json(404, { error: 'not_found' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('waits interval between polls, 5 s more after slow_down, and prints the token', async () => {
    const { stdout, stderr } = await exec(process.execPath, [
      CLI,
      '--device',
      '--issuer',
      issuer,
      '--scope',
      'orders:read',
    ]);
    assert.equal(stdout.trim(), 'the-access-token');
    assert.match(stderr, new RegExp(`open ${issuer}/device and enter the code BCDF-GHJK`));
    assert.equal(polls.length, 3);
    const [first, second, third] = polls as [number, number, number];
    // Timers never fire early by more than a millisecond or so; 50 ms of slack for clock reads.
    assert.ok(second - first >= INTERVAL * 1000 - 50, `pending → next poll after ${second - first} ms`);
    assert.ok(
      third - second >= (INTERVAL + 5) * 1000 - 50,
      `slow_down → next poll after ${third - second} ms`,
    );
  });
});
