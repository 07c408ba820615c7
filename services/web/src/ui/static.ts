/**
 * The console's front end: plain HTML, CSS and JavaScript from `public/`, no build step.
 * Files are read once at start. Each is served twice: under its own name with an ETag,
 * revalidated on every load, and under a fingerprinted name (its content's hash) cached for
 * good; the page names the fingerprinted URLs and maps the modules' plain URLs to them with an
 * import map (fingerprints.ts), so a reload fetches the page alone and a deploy still shows at
 * once (the page is revalidated). Every console path (public/routes.js, the list the
 * browser's router uses too) serves the same page; the script routes. The page lists the modules its script
 * imports as `<link rel="modulepreload">`, read from the files at start (module-preload.ts).
 * The page's CSP allows only this origin's script and style and its own import map (by hash),
 * no other inline code, no framing.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inlineScriptPageHeaders, type Server } from '@portico/http';
import { commonErrors } from '@portico/problem';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_PATHS } from '../../public/routes.js';
import { fingerprinted, withFingerprints } from './fingerprints.ts';
import { importedModules, withModulePreloads } from './module-preload.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Modules the console's scripts import from npm packages, served under /assets/ like its own:
 * openapi-fetch (one ES module that imports nothing) under the typed API client (public/api/).
 * Beside each path in public/, a `.d.ts` gives tsc the package's types.
 */
const PACKAGE_MODULES: Record<string, string> = {
  'vendor/openapi-fetch.js': fileURLToPath(import.meta.resolve('openapi-fetch')),
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** `no-cache` under its own name; `immutable` under its fingerprinted one. */
  cacheControl: string;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

export function staticRoutes(server: Server, options: { identityOrigin: string; publicUrl: string }) {
  const assets = new Map<string, Asset>();
  // `views/cart.js` and `admin/users.js` too: the console's modules import each other by
  // relative path under /assets/.
  const add = (name: string, body: Buffer) => {
    assets.set(name, {
      body,
      type: TYPES[extname(name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl: 'no-cache',
    });
  };
  for (const name of readdirSync(PUBLIC_DIR, { recursive: true, encoding: 'utf8' })) {
    // Type declarations are for tsc, not the browser.
    if (name.endsWith('.d.ts') || !statSync(join(PUBLIC_DIR, name)).isFile()) continue;
    add(name, readFileSync(join(PUBLIC_DIR, name)));
  }
  for (const [name, file] of Object.entries(PACKAGE_MODULES)) add(name, readFileSync(file));
  // The page names every module its script imports, for the browser to fetch them in parallel.
  const modules = importedModules('app.js', (name) => assets.get(name)?.body.toString('utf8'));
  // Every asset but the page under its fingerprinted name too, and the page naming those.
  const urls = new Map<string, string>();
  for (const [name, asset] of [...assets]) {
    if (name === 'index.html') continue;
    const hashed = fingerprinted(name, asset.body);
    assets.set(hashed, { ...asset, cacheControl: IMMUTABLE });
    urls.set(`/assets/${name}`, `/assets/${hashed}`);
  }
  const scripts = [...urls.keys()].filter((url) => url.endsWith('.js'));
  const source = assets.get('index.html')!.body.toString('utf8');
  const page = withFingerprints(withModulePreloads(source, '/assets/app.js', modules), urls, scripts);
  add('index.html', Buffer.from(page));
  const consolePage = inlineScriptPageHeaders(
    page,
    {
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'", 'data:'],
      'connect-src': ["'self'"],
      'base-uri': ["'none'"],
      // Sign-out posts here and is redirected to the provider's end-session page.
      'form-action': ["'self'", options.identityOrigin],
    },
    { referrer: 'same-origin' },
  );

  function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
    reply.header('etag', asset.etag).header('cache-control', asset.cacheControl);
    if (asset.type.startsWith('text/html')) reply.helmet(consolePage);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  }

  const index = assets.get('index.html')!;
  const canonical = new URL(options.publicUrl);
  for (const path of CONSOLE_PATHS) {
    server.get(path, { schema: { hide: true } }, (request, reply) => {
      // The session cookie and the Origin check belong to one host: send other names for it there.
      if (request.headers.host !== canonical.host)
        return reply.redirect(`${canonical.origin}${request.url}`, 308);
      return send(request, reply, index);
    });
  }
  server.get('/assets/*', { schema: { hide: true } }, (request, reply) => {
    const file = (request.params as { '*': string })['*'];
    const asset = file === 'index.html' ? undefined : assets.get(file);
    if (!asset) throw commonErrors.NOT_FOUND(`No asset ${file}`);
    return send(request, reply, asset);
  });
}
