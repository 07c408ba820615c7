import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, pageHeaders, RESOURCE_HEADERS, securityHeaders } from '../src/index.ts';

/** What every policy sends, besides its CSP and referrer policy. */
const EVERY_RESPONSE = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

const SECURITY_HEADERS = [
  ...Object.keys(EVERY_RESPONSE),
  'content-security-policy',
  'referrer-policy',
  'strict-transport-security',
  'cross-origin-embedder-policy',
];

function securityHeadersOf(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(SECURITY_HEADERS.filter((name) => name in headers).map((n) => [n, headers[n]]));
}

test('resources (JSON, streams, scripts) get no CSP, no referrer and are framed by no one', async () => {
  const server = await createServer({ name: 'test', logLevel: false });
  await securityHeaders(server, RESOURCE_HEADERS);
  server.get('/thing', async () => ({ ok: true }));
  const ok = await server.inject({ url: '/thing' });
  assert.deepEqual(securityHeadersOf(ok.headers), { ...EVERY_RESPONSE, 'referrer-policy': 'no-referrer' });
  // Problems too, and the reference UI, which a CSP of the API's would break.
  const missing = await server.inject({ url: '/nowhere' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.headers['x-content-type-options'], 'nosniff');
  const docs = await server.inject({ url: '/docs/' });
  assert.equal(docs.statusCode, 200);
  assert.equal(docs.headers['content-security-policy'], undefined);
  assert.equal(docs.headers['x-frame-options'], 'DENY');
  await server.close();
});

test('a page gets exactly its own CSP, framed by no one, and may swap it for one response', async () => {
  const server = await createServer({ name: 'test', logLevel: false });
  await server.register(async (scope) => {
    await securityHeaders(scope, pageHeaders({ 'default-src': ["'none'"], 'style-src': ["'self'"] }));
    scope.get('/page', async (_request, reply) => reply.type('text/html').send('<p>hi</p>'));
    scope.get('/scripted', async (_request, reply) => {
      reply.helmet(
        pageHeaders({ 'default-src': ["'none'"], 'script-src': ["'self'"] }, { referrer: 'same-origin' }),
      );
      return reply.type('text/html').send('<p>hi</p>');
    });
  });
  server.get('/outside', async () => ({ ok: true }));

  const page = await server.inject({ url: '/page' });
  assert.deepEqual(securityHeadersOf(page.headers), {
    ...EVERY_RESPONSE,
    'content-security-policy': "default-src 'none';style-src 'self';frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  });
  const scripted = await server.inject({ url: '/scripted' });
  assert.equal(
    scripted.headers['content-security-policy'],
    "default-src 'none';script-src 'self';frame-ancestors 'none'",
  );
  assert.equal(scripted.headers['referrer-policy'], 'same-origin');
  // The policy belongs to its plugin scope.
  const outside = await server.inject({ url: '/outside' });
  assert.deepEqual(securityHeadersOf(outside.headers), {});
  await server.close();
});
