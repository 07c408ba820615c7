/** The page's modulepreload list: the static import graph of the console's script. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importedModules, withModulePreloads } from '../src/ui/module-preload.ts';

const files: Record<string, string> = {
  'app.js': "import { a } from './lib/a.js';\nimport './router.js';\n",
  'router.js': "export { b } from './views/b.js';\nexport * from './lib/a.js';\n",
  // A JSDoc type import is for tsc; a dynamic import is fetched when it runs, not at load.
  'lib/a.js':
    "/** @import { T } from '../types.js' */\nimport { b } from '../views/b.js';\nexport const a = () => import('./later.js');\n",
  'views/b.js':
    "import { a } from '../lib/a.js';\nimport createClient from '../vendor/client.js';\nexport const b = 1;\n",
  'vendor/client.js': 'export default function createClient() {}\n',
};

test('every module the entry imports, directly or not, once each, nearest first', () => {
  assert.deepEqual(
    importedModules('app.js', (name) => files[name]),
    ['lib/a.js', 'router.js', 'views/b.js', 'vendor/client.js'],
  );
});

test('a module imported but not served fails the start, naming it', () => {
  assert.throws(
    () => importedModules('app.js', (name) => (name === 'views/b.js' ? undefined : files[name])),
    /views\/b\.js is imported but not served/,
  );
});

test('the links go just before the script that imports the modules', () => {
  const page =
    '<head>\n<link rel="stylesheet" href="/assets/app.css">\n<script type="module" src="/assets/app.js"></script>\n</head>';
  assert.equal(
    withModulePreloads(page, '/assets/app.js', ['router.js', 'lib/a.js']),
    '<head>\n<link rel="stylesheet" href="/assets/app.css">\n' +
      '<link rel="modulepreload" href="/assets/router.js">\n<link rel="modulepreload" href="/assets/lib/a.js">\n' +
      '<script type="module" src="/assets/app.js"></script>\n</head>',
  );
  assert.throws(() => withModulePreloads('<head></head>', '/assets/app.js', []), /has no <script/);
});
