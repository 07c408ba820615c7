/** Fingerprinted asset names and the page's import map. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprinted, withFingerprints } from '../src/ui/fingerprints.ts';

test('a file gets a name of its content: a changed file a new one, the same content the same', () => {
  const before = fingerprinted('views/cart.js', Buffer.from('export const cart = 1;\n'));
  const after = fingerprinted('views/cart.js', Buffer.from('export const cart = 2;\n'));
  assert.match(before, /^views\/cart\.[\w-]{16}\.js$/, 'in the same folder, the extension kept');
  assert.notEqual(after, before);
  assert.equal(fingerprinted('views/cart.js', Buffer.from('export const cart = 1;\n')), before);
  assert.match(fingerprinted('app.css', Buffer.from('a {}')), /^app\.[\w-]{16}\.css$/);
});

test('the page maps the modules and names the fingerprinted URLs, the map before any module', () => {
  const urls = new Map([
    ['/assets/app.js', '/assets/app.AAAA.js'],
    ['/assets/lib/a.js', '/assets/lib/a.BBBB.js'],
    ['/assets/app.css', '/assets/app.CCCC.css'],
  ]);
  const page =
    '<head>\n<link rel="stylesheet" href="/assets/app.css">\n' +
    '<link rel="modulepreload" href="/assets/lib/a.js">\n<script type="module" src="/assets/app.js"></script>\n' +
    '</head><a href="/products">x</a>';
  assert.equal(
    withFingerprints(page, urls, ['/assets/app.js', '/assets/lib/a.js']),
    '<head>\n<link rel="stylesheet" href="/assets/app.CCCC.css">\n' +
      '<script type="importmap">{"imports":{"/assets/app.js":"/assets/app.AAAA.js","/assets/lib/a.js":"/assets/lib/a.BBBB.js"}}</script>\n' +
      '<link rel="modulepreload" href="/assets/lib/a.BBBB.js">\n<script type="module" src="/assets/app.AAAA.js"></script>\n' +
      '</head><a href="/products">x</a>',
  );
  // The map's text never closes its script: up to the first </script> it is the whole map.
  const odd = new Map([['/assets/</script>.js', '/assets/</script>.X.js']]);
  const text = /<script type="importmap">([\s\S]*?)<\/script>/.exec(
    withFingerprints('<script type="module" src="/a.js"></script>', odd, ['/assets/</script>.js']),
  )![1]!;
  assert.deepEqual(JSON.parse(text), { imports: Object.fromEntries(odd) });
  assert.throws(() => withFingerprints('<head></head>', urls, []), /loads no module/);
});
