/**
 * The console's page and its live updates: the page is served with a strict CSP for every
 * console path, assets revalidate by ETag, and product changes published on the gateway's
 * GraphQL subscription reach the browser as server-sent events, with the session's token
 * on the upstream socket and never in the stream.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DeepPartial } from '@portico/config';
import type { Server } from '@portico/http';
import { CONSOLE_PATHS, pathPattern } from '../public/routes.js';
import type { WebConfig } from '../src/build.ts';
import {
  browser,
  type RunningIdentity,
  type Stack,
  signIn,
  startStack,
  startWeb,
} from './support/harness.ts';

const PUBLIC_DIR = new URL('../public/', import.meta.url);
/** The console's import map, and its text as the page carries it. */
function importMapOf(page: string): { imports: Record<string, string>; text: string } {
  const found = /<script type="importmap">([^<]*)<\/script>/.exec(page);
  assert.ok(found, 'the page has an import map');
  return { imports: JSON.parse(found[1]!).imports, text: found[1]! };
}
/** A module of types only (`export {};` and JSDoc), which only tsc reads. */
const typesOnly = (file: string) =>
  !/^(?:import |export (?!\{\};))/m.test(readFileSync(new URL(file, PUBLIC_DIR), 'utf8'));
const scriptHash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const sqlite = { name: 'sqlite' as const, url: 'sqlite::memory:', cleanup: async () => {} };

describe('the console page', () => {
  let idp: RunningIdentity;
  let web: Server;

  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack(sqlite);
    ({ idp, web } = stack);
  });
  after(() => stack?.close());

  test('every console path serves the page with a CSP that allows no inline code but its import map', async () => {
    for (const path of ['/', '/products', '/products/abc', '/cart', '/orders', '/orders/1', '/dashboard']) {
      const res = await browser(web).request({ url: path });
      assert.equal(res.statusCode, 200, path);
      assert.match(String(res.headers['content-type']), /text\/html/);
      const csp = String(res.headers['content-security-policy']);
      assert.ok(csp.includes(`script-src 'self' ${scriptHash(importMapOf(res.body).text)};`), csp);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.match(res.body, /<script type="module" src="\/assets\/app\.[\w-]{16}\.js"><\/script>/);
      assert.equal(
        res.body.match(/<script(?! type="module" src=)/g)?.length,
        1,
        'one inline script: the map',
      );
    }
    assert.equal((await browser(web).request({ url: '/nowhere' })).statusCode, 404);
  });

  test('another name for the host is sent to the console’s own origin', async () => {
    const res = await browser(web).request({ url: '/products?q=usb', headers: { host: '127.0.0.1:3000' } });
    assert.equal(res.statusCode, 308);
    assert.equal(res.headers.location, 'http://localhost:3000/products?q=usb');
  });

  test('assets are served with an ETag and revalidate', async () => {
    const js = await browser(web).request({ url: '/assets/app.js' });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /text\/javascript/);
    assert.equal(js.headers['cache-control'], 'no-cache');
    const again = await browser(web).request({
      url: '/assets/app.js',
      headers: { 'if-none-match': String(js.headers.etag) },
    });
    assert.equal(again.statusCode, 304);
    assert.equal((await browser(web).request({ url: '/assets/missing.js' })).statusCode, 404);
    assert.equal((await browser(web).request({ url: '/assets/..%2Fsrc%2Fbuild.ts' })).statusCode, 404);
    assert.equal((await browser(web).request({ url: '/assets/admin/../../src/build.ts' })).statusCode, 404);
    assert.equal((await browser(web).request({ url: '/assets/admin' })).statusCode, 404);

    // The typed API client's openapi-fetch, from its package as it ships, with the same headers;
    // the type declarations beside the modules are for tsc, not served.
    const client = await browser(web).request({ url: '/assets/api/client.js' });
    assert.match(client.body, /from '\.\.\/vendor\/openapi-fetch\.js'/);
    const fetcher = await browser(web).request({ url: '/assets/vendor/openapi-fetch.js' });
    assert.equal(fetcher.statusCode, 200);
    assert.match(String(fetcher.headers['content-type']), /text\/javascript/);
    assert.equal(fetcher.headers['cache-control'], 'no-cache');
    assert.equal(fetcher.headers['x-content-type-options'], 'nosniff');
    assert.ok(fetcher.headers.etag);
    const shipped = readFileSync(fileURLToPath(import.meta.resolve('openapi-fetch')), 'utf8');
    assert.equal(fetcher.body, shipped);
    assert.doesNotMatch(shipped, /^\s*import\s/m, 'one module that imports nothing');
    for (const url of ['/assets/api/schema.generated.d.ts', '/assets/vendor/openapi-fetch.d.ts'])
      assert.equal((await browser(web).request({ url })).statusCode, 404, url);

    // The views are modules app.js imports by relative path: JavaScript, the same headers.
    assert.match(js.body, /from '\.\/router\.js'/);
    const router = await browser(web).request({ url: '/assets/router.js' });
    assert.match(router.body, /from '\.\/views\/product\.js'/);
    assert.match(router.body, /from '\.\/admin\/users\.js'/);
    for (const file of readdirSync(PUBLIC_DIR, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.js')) continue;
      const module = await browser(web).request({ url: `/assets/${file}` });
      assert.equal(module.statusCode, 200, file);
      assert.match(String(module.headers['content-type']), /^text\/javascript/, file);
      assert.equal(module.headers['cache-control'], 'no-cache', file);
      assert.equal(module.headers['x-content-type-options'], 'nosniff', file);
      // tsc checks every module of the console (tsconfig.json includes services/web/public).
      assert.match(module.body, /^\/\/ @ts-check\n/, `${file} is type-checked`);
    }
  });

  test('the page maps every module to a URL of its content, cached for good', async () => {
    const page = (await browser(web).request({ url: '/products' })).body;
    const { imports } = importMapOf(page);
    // Every module served, whether the page loads it at start or not, and nothing else.
    const served = readdirSync(PUBLIC_DIR, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.js'))
      .concat('vendor/openapi-fetch.js')
      .map((file) => `/assets/${file}`);
    assert.deepEqual(Object.keys(imports).toSorted(), served.toSorted());
    // What the page names itself: the script, its preloads and its style sheet, by those URLs.
    const named = [...page.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    // app.js and every module it imports (all but those of types only), each once.
    assert.deepEqual(
      named.filter((url) => url.endsWith('.js')).toSorted(),
      Object.entries(imports)
        .filter(([url]) => url.startsWith('/assets/vendor/') || !typesOnly(url.slice('/assets/'.length)))
        .map(([, hashed]) => hashed)
        .toSorted(),
    );
    const css = named.filter((url) => url.endsWith('.css'));
    assert.equal(css.length, 1);

    const pairs: Array<[string, string]> = [...Object.entries(imports), ['/assets/app.css', css[0]!]];
    for (const [url, hashed] of pairs) {
      // The same folder (relative imports resolve as from the plain URL), the content's hash.
      const plainFile = url.replace(/\.(js|css)$/, '');
      assert.match(hashed, new RegExp(`^${plainFile}\\.[\\w-]{16}\\.(js|css)$`), url);
      const [plain, fixed] = await Promise.all([
        browser(web).request({ url }),
        browser(web).request({ url: hashed }),
      ]);
      assert.equal(fixed.statusCode, 200, hashed);
      assert.equal(fixed.headers['cache-control'], 'public, max-age=31536000, immutable', hashed);
      assert.equal(plain.headers['cache-control'], 'no-cache', url);
      assert.equal(fixed.headers['content-type'], plain.headers['content-type'], hashed);
      assert.match(
        String(fixed.headers['content-type']),
        url.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      assert.equal(fixed.headers['x-content-type-options'], 'nosniff', hashed);
      assert.equal(fixed.body, plain.body, hashed);
      const hash = createHash('sha256').update(fixed.body).digest('base64url').slice(0, 16);
      assert.ok(hashed.includes(`.${hash}.`), `${hashed} names its content`);
    }
    // A name that is not one of the content's is no asset.
    const app = imports['/assets/app.js']!;
    assert.equal(
      (await browser(web).request({ url: app.replace(/\.[\w-]{16}\./, '.AAAAAAAAAAAAAAAA.') })).statusCode,
      404,
    );
  });

  test('the page lists every module of its script for the browser to fetch at once (modulepreload)', async () => {
    const page = (await browser(web).request({ url: '/products' })).body;
    const { imports } = importMapOf(page);
    const plain = new Map(Object.entries(imports).map(([url, hashed]) => [hashed, url]));
    const preloaded = [...page.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) =>
      plain.get(m[1]!)!.replace('/assets/', ''),
    );
    assert.ok(
      page.indexOf('rel="modulepreload"') <
        page.indexOf(`<script type="module" src="${imports['/assets/app.js']}">`),
      'listed before the script',
    );
    assert.ok(
      page.indexOf('<script type="importmap">') < page.indexOf('rel="modulepreload"'),
      'the map first',
    );
    // Every module of public/ is imported statically from app.js (one no page imports is dead
    // code), and the vendored openapi-fetch under the typed client too; not the modules of
    // types only (`export {};` and JSDoc), which only tsc reads.
    const modules = readdirSync(PUBLIC_DIR, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.js') && file !== 'app.js' && !typesOnly(file),
    );
    assert.ok(typesOnly('lib/types.js') && !typesOnly('lib/gateway.js'));
    assert.deepEqual(preloaded.toSorted(), [...modules, 'vendor/openapi-fetch.js'].toSorted());
    assert.equal(new Set(preloaded).size, preloaded.length, 'each once');
    // Nearest first: what app.js imports comes before what those import.
    assert.ok(preloaded.indexOf('router.js') < preloaded.indexOf('views/product.js'));
    assert.ok(preloaded.indexOf('views/product.js') < preloaded.indexOf('vendor/openapi-fetch.js'));
  });

  test('the server serves the page at exactly the paths the browser’s router shows', async () => {
    const sample = (path: string) => path.replace(/:\w+\([^)]*\)/, 'a'.repeat(32)).replace(/:\w+/, 'x-1');
    for (const path of CONSOLE_PATHS) {
      const res = await browser(web).request({ url: sample(path) });
      assert.equal(res.statusCode, 200, path);
      assert.match(String(res.headers['content-type']), /text\/html/, path);
      assert.match(sample(path), pathPattern(path), path);
    }
    // A trace id is 32 hex digits, for the server as for the router.
    assert.equal((await browser(web).request({ url: '/admin/requests/not-a-trace' })).statusCode, 404);
    assert.doesNotMatch('/admin/requests/not-a-trace', pathPattern('/admin/requests/:id([0-9a-f]{32})'));
    assert.deepEqual(pathPattern('/orders/:id').exec('/orders/o%2F1')?.slice(1), ['o%2F1']);
    assert.equal(pathPattern('/orders/:id').exec('/orders/1/items'), null);
  });

  test('GET /logout asks first; it signs out only by POST', async () => {
    const { browser: b } = await signIn(web, idp);
    const page = await b.request({ url: '/logout' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/logout">/);
    assert.match(page.body, /name="csrf" value="[A-Za-z0-9_-]{43}"/);
    assert.match(
      String(page.headers['content-security-policy']),
      /default-src 'none'.*frame-ancestors 'none'/,
    );
    const { authenticated } = (await b.request({ url: '/api/session' })).json();
    assert.equal(authenticated, true);
  });

  test('the console page, the sign-in pages and the API each carry their own security headers', async () => {
    const names = ['content-security-policy', 'referrer-policy', 'x-frame-options', 'x-content-type-options'];
    const headersOf = (res: { headers: Record<string, unknown> }) =>
      Object.fromEntries(names.map((name) => [name, res.headers[name]]));
    const identity = new URL(idp.issuer).origin;
    const page = await browser(web).request({ url: '/' });
    assert.deepEqual(headersOf(page), {
      'content-security-policy':
        `default-src 'none';script-src 'self' ${scriptHash(importMapOf(page.body).text)};style-src 'self';` +
        "img-src 'self' data:;connect-src 'self';" +
        `base-uri 'none';form-action 'self' ${identity};frame-ancestors 'none'`,
      'referrer-policy': 'same-origin',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
    });
    const { browser: b } = await signIn(web, idp);
    const logout = await b.request({ url: '/logout' });
    assert.equal(logout.headers['cache-control'], 'no-store');
    assert.deepEqual(headersOf(logout), {
      'content-security-policy': `default-src 'none';style-src 'self';form-action 'self' ${identity};base-uri 'none';frame-ancestors 'none'`,
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
    });
    for (const url of ['/api/session', '/assets/app.js', '/nowhere'])
      assert.deepEqual(
        headersOf(await b.request({ url })),
        {
          'content-security-policy': undefined,
          'referrer-policy': 'no-referrer',
          'x-frame-options': 'DENY',
          'x-content-type-options': 'nosniff',
        },
        url,
      );
  });
});

describe('configuration', () => {
  test('without the client secret the console refuses to start, naming the variable', async () => {
    await assert.rejects(
      startWeb(sqlite, 'http://127.0.0.1:9', 'http://127.0.0.1:9', { oidc: { clientSecret: '' } }),
      /PORTICO_WEB_CLIENT_SECRET/,
    );
  });
});

describe('live product changes', () => {
  const live = listeningStack();

  test('a productUpdated event reaches the browser as an SSE `product` event, in the REST shape', async () => {
    const { web, idp, gateway, base } = live;
    const { browser: b } = await signIn(web, idp);
    const abort = new AbortController();
    const res = await fetch(`${base}/events/products`, {
      headers: { cookie: b.jar.header(), accept: 'text/event-stream' },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const stream = events(res);
    const until = stream.until;
    await until(/event: ready/);
    await gateway.subscribed;
    gateway.publish(lamp);
    await until(/event: product\ndata: .*\n\n/);
    const data = /event: product\ndata: (.*)\n/.exec(stream.text())![1]!;
    // What GET /api/v1/products/p-1 would say of it: one product shape for the page.
    assert.deepEqual(JSON.parse(data), {
      id: 'p-1',
      name: 'Lamp',
      description: 'A desk lamp',
      price: 12.5,
      currency: 'EUR',
      category_id: 'c-1',
      in_stock: true,
      created_at: '2026-11-01T10:00:00.000Z',
      updated_at: '2026-11-30T09:00:00.000Z',
    });
    assert.doesNotMatch(stream.text(), /eyJ/, 'no token in the stream');
    abort.abort();

    const params = gateway.connections.at(-1);
    assert.match(
      String(params?.authorization),
      /^Bearer eyJ/,
      'the upstream socket carries the session token',
    );
  });

  test('N anonymous browsers share one upstream subscription; it closes when the last one leaves', async () => {
    const { gateway, base } = live;
    const before = gateway.connections.length;
    const browsers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const abort = new AbortController();
        const res = await fetch(`${base}/events/products`, {
          headers: { accept: 'text/event-stream' },
          signal: abort.signal,
        });
        assert.equal(res.status, 200);
        return { abort, until: events(res).until };
      }),
    );
    await Promise.all(browsers.map((b) => b.until(/event: ready/)));
    assert.equal(gateway.connections.length - before, 1, 'one upstream graphql-ws connection');
    assert.equal(gateway.sockets(), 1);
    await waitFor(() => gateway.subscriptions() === 1, 'the shared subscription');
    gateway.publish({ ...lamp, id: 'p-2', name: 'Desk', price: 99, formattedPrice: '€99.00' });
    await Promise.all(browsers.map((b) => b.until(/event: product\ndata: .*"p-2".*\n\n/)));
    for (const b of browsers) b.abort.abort();
    await waitFor(() => gateway.sockets() === 0, 'the upstream socket to close');
  });
});

describe('a live subscription that does not select a whole product', () => {
  const live = listeningStack({
    live: { subscription: 'subscription { productUpdated { id price inStock } }' },
  });

  test('its events reach the browser as a `problem`, never as half a product', async () => {
    const { gateway, base } = live;
    const abort = new AbortController();
    const res = await fetch(`${base}/events/products`, { signal: abort.signal });
    const stream = events(res);
    await stream.until(/event: ready/);
    await gateway.subscribed;
    gateway.publish(lamp);
    await stream.until(/event: problem\ndata: .*\n\n/);
    assert.doesNotMatch(stream.text(), /event: product/);
    assert.match(stream.text(), /without every field/);
    abort.abort();
  });
});

/** The stack with the console listening, for the describe block it is called in. */
function listeningStack(overrides?: DeepPartial<WebConfig>): Stack & { base: string } {
  const live = {} as Stack & { base: string };
  before(async () => {
    Object.assign(live, await startStack(sqlite, overrides));
    live.base = await live.web.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => live.close?.());
  return live;
}

/** A product as the catalog's GraphQL `productUpdated` sends it (camelCase). */
const lamp = {
  id: 'p-1',
  name: 'Lamp',
  description: 'A desk lamp',
  price: 12.5,
  formattedPrice: '€12.50',
  currency: 'EUR',
  categoryId: 'c-1',
  inStock: true,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-30T09:00:00.000Z',
};

/** Reads an event stream as it arrives: `until` waits for a pattern in what came so far. */
function events(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  return {
    text: () => text,
    async until(pattern: RegExp) {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += value;
      }
    },
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
