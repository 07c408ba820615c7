/** The payments service's own token: client credentials at a token endpoint, kept until shortly before expiry. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { clientCredentialsToken } from '../src/clients/service-token.ts';

describe('service token (client credentials)', () => {
  let server: Server;
  let tokenUrl: string;
  const seen: Array<{ authorization?: string; form: URLSearchParams }> = [];
  let answer: { status: number; body: object } = {
    status: 200,
    body: { access_token: 'tok-1', token_type: 'Bearer', expires_in: 300 },
  };
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ authorization: req.headers.authorization, form: new URLSearchParams(body) });
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const options = () => ({
    issuer: 'http://127.0.0.1',
    tokenUrl,
    clientId: 'portico-service',
    clientSecret: 's3cret',
    scope: 'orders:pay',
    resource: 'http://localhost:8000',
  });

  test('asks once with Basic client authentication, the scope and the resource; then reuses the token', async () => {
    seen.length = 0;
    const token = clientCredentialsToken(options());
    const [a, b] = await Promise.all([token(), token()]);
    assert.equal(a, 'tok-1');
    assert.equal(b, 'tok-1');
    assert.equal(await token(), 'tok-1');
    assert.equal(seen.length, 1, 'one request for three tokens');
    const [request] = seen;
    // RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
    const [scheme, credentials = ''] = request!.authorization!.split(' ');
    assert.equal(scheme, 'Basic');
    assert.deepEqual(Buffer.from(credentials, 'base64').toString().split(':').map(decodeURIComponent), [
      'portico-service',
      's3cret',
    ]);
    assert.equal(request!.form.get('grant_type'), 'client_credentials');
    assert.equal(request!.form.get('scope'), 'orders:pay');
    assert.equal(request!.form.get('resource'), 'http://localhost:8000');
  });

  test('a refusal or a missing secret is an error, and the next call tries again', async () => {
    seen.length = 0;
    answer = { status: 401, body: { error: 'invalid_client' } };
    const token = clientCredentialsToken(options());
    await assert.rejects(token());
    answer = { status: 200, body: { access_token: 'tok-2', token_type: 'Bearer', expires_in: 300 } };
    assert.equal(await token(), 'tok-2');
    assert.equal(seen.length, 2);
    await assert.rejects(clientCredentialsToken({ ...options(), clientSecret: '' })(), /no client secret/);
    assert.equal(seen.length, 2, 'nothing sent without a secret');
  });
});
