/**
 * How long the console's page takes to fetch its script (every module of public/) and to show
 * the catalog, on a first load and on a reload, in Debian's chromium, each answer given a round
 * trip's delay. Three pages: as served ("fingerprinted": modules by URLs of their content,
 * cached for good, an import map, `<link rel="modulepreload">`), and as served before, the page
 * stripped of its import map and naming the plain URLs (revalidated on every load), with
 * ("modulepreload") and without ("no preload") its preload list. Over HTTP/1.1 straight to the
 * console (six connections at most: the browser's limit per host) and over HTTP/2 through a
 * TLS front, as the ingress in deploy/kubernetes serves it (one connection, every request at
 * once).
 * The console's own asset routes (src/ui/static.ts) serve the files; its API answers are
 * stand-ins (signed out, an empty catalog), so only the page and its modules are measured.
 * Usage: node bench/console/module-load.ts [round trip ms, default 100] [runs, default 7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createSecureServer, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '@portico/browser-testing';
import { createServer, RESOURCE_HEADERS, securityHeaders } from '@portico/http';
import { freePort } from '@portico/http/testing';
import type { Page as Tab } from 'playwright-core';
import { staticRoutes } from '../../services/web/src/ui/static.ts';

const rttMs = Number(process.argv[2] ?? 100);
const runs = Number(process.argv[3] ?? 7);

const port = await freePort();
const frontPort = await freePort();
const origins = { 'HTTP/1.1': `http://localhost:${port}`, 'HTTP/2': `https://localhost:${frontPort}` };
const server = await createServer({ name: 'console-bench', logLevel: false });
await securityHeaders(server, RESOURCE_HEADERS);
type Page = 'no preload' | 'modulepreload' | 'fingerprinted';
let variant: Page = 'fingerprinted';
// Every answer a round trip after its request: on HTTP/2 the requests of one connection wait
// side by side; on HTTP/1.1 each holds one of the browser's six connections meanwhile.
// The delay is the server's, the same for both transports, not Chromium's network emulation.
server.addHook('onRequest', async () => {
  await new Promise((resolve) => setTimeout(resolve, rttMs));
});
// The pages of before: plain URLs (each module revalidated on every load), no import map.
server.addHook('onSend', async (_request, reply, payload) => {
  const type = String(reply.getHeader('content-type') ?? '');
  if (variant === 'fingerprinted' || !type.startsWith('text/html') || !Buffer.isBuffer(payload))
    return payload;
  const plain = payload
    .toString('utf8')
    .replace(/<script type="importmap">[^<]*<\/script>\n/, '')
    .replace(/(="\/assets\/[^"]+)\.[\w-]{16}(\.(?:js|css)")/g, '$1$2');
  return variant === 'modulepreload' ? plain : plain.replace(/<link rel="modulepreload"[^>]*>\n/g, '');
});
server.get('/api/session', async () => ({ authenticated: false, user: null, csrf_token: null }));
server.get('/api/v1/products', async () => ({
  data: [],
  pagination: { page: 1, per_page: 12, total: 0, total_is_exact: true, has_next: false, has_previous: false },
  links: {},
}));
server.get('/api/v1/categories', async () => ({ data: [], links: {}, pagination: {} }));
server.get('/events/products', async (_request, reply) => reply.code(204).send());
staticRoutes(server, { identityOrigin: origins['HTTP/1.1'], publicUrl: origins['HTTP/1.1'] });
await server.listen({ port, host: '127.0.0.1' });

// The TLS front: HTTP/2 to the browser, each stream forwarded over HTTP/1.1 to the console.
const certDir = mkdtempSync(join(tmpdir(), 'portico-bench-tls-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    join(certDir, 'key.pem'),
    '-out',
    join(certDir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
);
const front = createSecureServer({
  key: readFileSync(join(certDir, 'key.pem')),
  cert: readFileSync(join(certDir, 'cert.pem')),
});
front.on('stream', (stream, headers: IncomingHttpHeaders) => {
  const forwarded = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':')));
  // The console answers on its canonical host only (it redirects others there).
  forwarded.host = `localhost:${port}`;
  const upstream = request(
    { host: '127.0.0.1', port, method: headers[':method'], path: headers[':path'], headers: forwarded },
    (res) => {
      // The browser may have given up on it meanwhile (a page left).
      if (stream.destroyed) return res.resume();
      const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...answer } = res.headers;
      stream.respond({ ':status': res.statusCode ?? 502, ...answer });
      res.pipe(stream);
    },
  );
  upstream.on('error', () => stream.close());
  stream.on('aborted', () => upstream.destroy());
  stream.pipe(upstream);
});
front.on('error', () => {});
await new Promise<void>((resolve) => front.listen(frontPort, '127.0.0.1', resolve));

const browser = await launchChromium('--ignore-certificate-errors');

interface Load {
  preloaded: boolean;
  mapped: boolean;
  modules: number;
  /** Modules that came over the network (a 304 too), not from the browser's cache. */
  fetched: number;
  scriptsMs: number;
  shownMs: number;
}

/** One load of /products: a cold one in a new context, or a reload of `page` (revalidation). */
async function load(page: Tab, origin: string, reload: boolean): Promise<Load> {
  if (reload) await page.reload();
  else await page.goto(`${origin}/products`);
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Catalog');
  return page.evaluate(() => {
    const scripts = performance
      .getEntriesByType('resource')
      .filter((e) => e.name.endsWith('.js')) as PerformanceResourceTiming[];
    return {
      preloaded: document.querySelector('link[rel="modulepreload"]') !== null,
      mapped: document.querySelector('script[type="importmap"]') !== null,
      modules: scripts.length,
      fetched: scripts.filter((e) => e.transferSize > 0).length,
      scriptsMs: Math.max(...scripts.map((e) => e.responseEnd)),
      shownMs: performance.now(),
    };
  });
}

/** A first load in a new context (a cold cache), then a reload of it. */
async function measure(origin: string): Promise<[Load, Load]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cold = await load(page, origin, false);
    if (cold.preloaded !== (variant !== 'no preload') || cold.mapped !== (variant === 'fingerprinted'))
      throw new Error(`the page served is not the ${variant} one`);
    return [cold, await load(page, origin, true)];
  } finally {
    await context.close();
  }
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
const row = (name: string, loads: Load[]) =>
  `| ${name} | ${loads[0]!.modules} | ${median(loads.map((l) => l.fetched))} | ${Math.round(median(loads.map((l) => l.scriptsMs)))} | ${Math.round(median(loads.map((l) => l.shownMs)))} |`;

try {
  // The variants take turns, run after run, so a change in the machine's load falls on each alike.
  const variants = Object.entries(origins).flatMap(([transport, origin]) =>
    (['no preload', 'modulepreload', 'fingerprinted'] as const).map((page) => ({
      label: `${transport}, ${page}`,
      origin,
      page,
    })),
  );
  const loads = new Map(variants.map((v) => [v.label, { cold: [] as Load[], warm: [] as Load[] }]));
  for (let i = 0; i < runs; i++) {
    for (const { label, origin, page } of variants) {
      variant = page;
      const [cold, warm] = await measure(origin);
      loads.get(label)!.cold.push(cold);
      loads.get(label)!.warm.push(warm);
    }
  }
  const results = [...loads].flatMap(([label, { cold, warm }]) => [
    row(`${label}, first load`, cold),
    row(`${label}, reload`, warm),
  ]);
  console.log(`/products, ${rttMs} ms round trip, median of ${runs}\n`);
  console.log(
    '| page | modules | over the network | all modules loaded (ms) | catalog shown (ms) |\n|---|---|---|---|---|',
  );
  for (const line of results) console.log(line);
} finally {
  await browser.close();
  front.close();
  await server.close();
  rmSync(certDir, { recursive: true, force: true });
}
