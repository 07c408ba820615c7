import assert from 'node:assert/strict';
import { test } from 'node:test';
import { htmlPage, inlineScriptHashes } from '../src/index.ts';

test('a page escapes its title and URLs, links its stylesheet and defers its scripts', () => {
  const html = htmlPage({
    title: 'Tom & <Jerry>',
    stylesheet: '/assets/app.css?v="1"',
    body: '<main><p>Hello</p></main>',
    scripts: ['/a.js', '/b.js?x=<y>'],
  });
  assert.match(html, /^<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n/);
  assert.match(html, /<title>Tom &amp; &lt;Jerry&gt; · Portico<\/title>/);
  assert.match(html, /<link rel="stylesheet" href="\/assets\/app.css\?v=&quot;1&quot;">\n<\/head>/);
  assert.match(
    html,
    /<body>\n<main><p>Hello<\/p><\/main>\n<script src="\/a.js" defer><\/script>\n<script src="\/b.js\?x=&lt;y&gt;" defer><\/script>\n<\/body>\n<\/html>\n$/,
  );
  assert.doesNotMatch(html, /<style>/);
  assert.deepEqual(inlineScriptHashes(html), [], 'no inline script for a CSP to name');
});

test('a page with inline CSS has a <style> and no stylesheet link', () => {
  const html = htmlPage({ title: 'Sign in', style: 'body{margin:0}', body: '<main></main>' });
  assert.match(html, /<title>Sign in · Portico<\/title>\n<style>body\{margin:0\}<\/style>\n<\/head>/);
  assert.doesNotMatch(html, /<link|<script/);
});
