import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, pageHeaders, RESOURCE_HEADERS, securityHeaders } from '../src/index.ts';
import { JSON_API_SECURITY_HEADERS, securityHeadersOf } from '../src/testing.ts';

/** What every policy sends, besides its CSP and referrer policy. */
const { 'referrer-policy': _, ...EVERY_RESPONSE } = JSON_API_SECURITY_HEADERS;

test('resources (JSON, streams, scripts) get no CSP, no referrer and are framed by no one', async () => {
  const server = await createServer({ name: 'test', logLevel: false });
  await securityHeaders(server, RESOURCE_HEADERS);
  server.get('/thing', async () => ({ ok: true }));
  const ok = await server.inject({ url: '/thing' });
  assert.deepEqual(securityHeadersOf(ok.headers), JSON_API_SECURITY_HEADERS);
  // Problems too, and the OpenAPI document.
  const missing = await server.inject({ url: '/nowhere' });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(securityHeadersOf(missing.headers), JSON_API_SECURITY_HEADERS);
  assert.deepEqual(
    securityHeadersOf((await server.inject({ url: '/openapi.json' })).headers),
    JSON_API_SECURITY_HEADERS,
  );
  await server.close();
});

test('the API reference UI at /docs gets the docs page policy on every server, with or without a policy of its own', async () => {
  const docsPolicy = {
    ...EVERY_RESPONSE,
    'content-security-policy':
      "default-src 'none';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;" +
      "font-src 'self' data:;connect-src 'self';base-uri 'none';form-action 'self';frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  };
  const bare = await createServer({ name: 'test', logLevel: false });
  const withResourcePolicy = await createServer({ name: 'test', logLevel: false });
  await securityHeaders(withResourcePolicy, RESOURCE_HEADERS);
  for (const server of [bare, withResourcePolicy]) {
    const page = await server.inject({ url: '/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<script src="\.\/static\/swagger-ui-bundle\.js"/);
    assert.deepEqual(securityHeadersOf(page.headers), docsPolicy);
    const script = await server.inject({ url: '/docs/static/swagger-initializer.js' });
    assert.equal(script.statusCode, 200);
    assert.equal(script.headers['x-content-type-options'], 'nosniff');
    await server.close();
  }
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
