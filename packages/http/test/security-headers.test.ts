import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  createServer,
  inlineScriptHashes,
  inlineScriptPageHeaders,
  pageHeaders,
  RESOURCE_HEADERS,
  securityHeaders,
} from '../src/index.ts';
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

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

test('inline scripts are hashed as the browser reads them: their text, newlines normalised, no src, once each', () => {
  const first = 'const tag = "<script>" + "<\\/script>"; // ends only at the real end tag';
  const page = [
    '<!doctype html><html><head><script src="/app.js"></script>',
    `<script>${first}</script>`,
    '<style>script { color: red }</style></head><body>',
    '<script type="module">\r\nconst é = 1 &amp; 2;\r\n</script>',
    `<SCRIPT>${first}</SCRIPT>`,
    '<script></script></body></html>',
  ].join('\n');
  assert.deepEqual(inlineScriptHashes(page), [sha256(first), sha256('\nconst é = 1 &amp; 2;\n'), sha256('')]);
  assert.deepEqual(inlineScriptHashes('<p>no scripts</p>'), []);
});

test('a page of inline scripts gets its directives with script-src naming their hashes', async () => {
  const html = '<html><body><script>go()</script></body></html>';
  const server = await createServer({ name: 'test', logLevel: false });
  await securityHeaders(server, RESOURCE_HEADERS);
  server.get('/inline', async (_request, reply) => {
    reply.helmet(
      inlineScriptPageHeaders(html, {
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
      }),
    );
    return reply.type('text/html').send(html);
  });
  const page = await server.inject({ url: '/inline' });
  assert.deepEqual(securityHeadersOf(page.headers), {
    ...EVERY_RESPONSE,
    'content-security-policy': `default-src 'none';script-src 'self' ${sha256('go()')};object-src 'none';base-uri 'none';frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
  });
  await server.close();
});
