/**
 * Content-addressed URLs for the console's assets, so that a browser keeps them for good
 * (`immutable`) and a reload asks for the page alone (as Rails' propshaft and importmap-rails do):
 * - each asset is served under its plain name and under a fingerprinted one, its content's
 *   SHA-256 before the extension (`views/cart.js` → `views/cart.<hash>.js`), in the same
 *   folder, so the relative imports of a module fetched by its fingerprinted URL resolve to
 *   the same plain URLs as before;
 * - the page carries an import map from every module's plain URL to its fingerprinted one.
 *   A module's imports go through the map (a relative specifier is resolved against the
 *   importer's URL first, then looked up: the map's keys are absolute URLs too), so a changed
 *   module changes its own URL and the page's map, not the URLs of the modules importing it;
 * - the page's `src`/`href` to an asset (the entry script, the style sheet, modulepreload
 *   links) name the fingerprinted URL, since a URL in HTML is not a module specifier.
 * The page itself is revalidated on every load: the map in it is what moves on a deploy.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';

/** `name` with its content's hash before the extension: `views/cart.js` → `views/cart.<hash>.js`. */
export function fingerprinted(name: string, body: Buffer): string {
  const extension = extname(name);
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return `${name.slice(0, name.length - extension.length)}.${hash}${extension}`;
}

/**
 * `html` with an import map before the first module it loads (the map must be read before the
 * browser resolves any module), and every `src`/`href` that `urls` maps changed to its
 * fingerprinted URL.
 * @param urls plain URL → fingerprinted URL of every asset
 * @param modules the plain URLs of the modules to map, every script the page may import
 */
export function withFingerprints(html: string, urls: ReadonlyMap<string, string>, modules: string[]): string {
  const first = html.search(/<link rel="modulepreload"|<script type="module"/);
  if (first < 0) throw new Error('the console’s page loads no module');
  const imports = Object.fromEntries(modules.map((url) => [url, urls.get(url)]));
  // `<` escaped: the map's text can never close its <script>.
  const map = JSON.stringify({ imports }).replaceAll('<', '\\u003c');
  const page = `${html.slice(0, first)}<script type="importmap">${map}</script>\n${html.slice(first)}`;
  return page.replace(/\b(src|href)="([^"]+)"/g, (attribute, name: string, url: string) =>
    urls.has(url) ? `${name}="${urls.get(url)}"` : attribute,
  );
}
