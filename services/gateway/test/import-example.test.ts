/**
 * "Bring your own service", end to end: the example notes service (examples/notes, plain
 * node:http with its own OpenAPI 3.1 document) started, `npm run gateway -- import` run as a
 * command against its /openapi.json into a gateway file that already has a route of its own, a
 * gateway started on that file: a call without a token is 401, a token without the operation's
 * scope 403, with it 200, past the limit 429, and the service's paths are in the gateway's
 * merged /openapi.json.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import { type NotesService, startNotes } from '../examples/notes/index.ts';
import { loadGatewayFile } from '../src/config.ts';
import { json, startGateway, startUpstream, type TestGateway, type TestUpstream } from './support/harness.ts';

const CLI = fileURLToPath(new URL('../src/cli/gateway.ts', import.meta.url));
const run = promisify(execFile);

describe('import: the notes example behind the gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-import-example-'));
  const file = join(dir, 'gateway.yaml');
  let notes: NotesService;
  let shop: TestUpstream;
  let issuer: TestIssuer;
  let gateway: TestGateway;
  let existing: string;
  let output: { stdout: string; stderr: string };

  before(async () => {
    issuer = await createTestIssuer();
    notes = await startNotes();
    shop = await startUpstream();
    existing = `# A gateway file someone keeps by hand.
upstreams:
  shop: { instances: [${shop.url}] }

routes:
  - name: shop
    path: /shop
    upstream: shop
    auth: { default: public }  # the shop is open
`;
    writeFileSync(file, existing);
    output = await run(process.execPath, [
      CLI,
      'import',
      `${notes.url}/openapi.json`,
      '--file',
      file,
      '--rate-limit',
      '3/1m',
    ]);
    gateway = await startGateway(undefined, { verifier: issuer.verifier, config: { file } });
  });
  after(async () => {
    await gateway?.close();
    await Promise.all([notes?.close(), shop?.close()]);
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  test('the import wrote its routes after the file’s own, which it left as they were', () => {
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith(existing.slice(0, existing.indexOf('\nroutes:'))));
    assert.ok(text.includes('    auth: { default: public }  # the shop is open\n'));
    assert.match(output.stderr, /upstream notes \(http:\/\/127\.0\.0\.1:\d+\)/);
    const loaded = loadGatewayFile(file);
    assert.deepEqual(
      loaded.routes.map((route) => [route.name, route.path, route.methods]),
      [
        ['shop', '/shop', undefined],
        ['notes-notes', '/notes', ['GET', 'POST']],
        ['notes-notes-id', '/notes', ['GET', 'DELETE']],
      ],
    );
    assert.deepEqual(loaded.upstreams.notes, {
      instances: [notes.url],
      healthCheck: { path: '/health', interval: '10s' },
    });
  });

  test('no token: the gateway’s 401 problem+json (the service’s own 401 has no code)', async () => {
    const res = await fetch(`${gateway.url}/notes`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal((await json(res)).code, 'AUTHENTICATION_REQUIRED');
    // The other route of the file still serves.
    assert.equal((await fetch(`${gateway.url}/shop`)).status, 200);
  });

  test('the operation’s scope: notes:read reads, notes:write writes, and not the other way round', async () => {
    const reader = await issuer.sign({ sub: 'reader', scope: 'notes:read' });
    const writer = await issuer.sign({ sub: 'writer', scope: 'notes:write' });
    const denied = await fetch(`${gateway.url}/notes`, { headers: bearer(writer) });
    assert.equal(denied.status, 403);
    assert.equal((await json(denied)).code, 'INSUFFICIENT_SCOPE');
    const created = await fetch(`${gateway.url}/notes`, {
      method: 'POST',
      headers: { ...bearer(writer), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'buy milk' }),
    });
    assert.equal(created.status, 201);
    const note = await json(created);
    assert.equal(note.text, 'buy milk');
    const list = await fetch(`${gateway.url}/notes`, { headers: bearer(reader) });
    assert.equal(list.status, 200);
    assert.deepEqual(await json(list), { data: [] }, 'each user sees their own notes');
    const other = await fetch(`${gateway.url}/notes/${note.id}`, {
      method: 'DELETE',
      headers: bearer(reader),
    });
    assert.equal(other.status, 403);
    const gone = await fetch(`${gateway.url}/notes/${note.id}`, {
      method: 'DELETE',
      headers: bearer(writer),
    });
    assert.equal(gone.status, 204);
  });

  test('the limit from the command line: 3 a minute per caller, then 429 with Retry-After', async () => {
    const token = await issuer.sign({ sub: 'busy', scope: 'notes:read' });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gateway.url}/notes`, { headers: bearer(token) });
      assert.equal(res.status, 200, `call ${i + 1}`);
      assert.match(res.headers.get('ratelimit-policy')!, /^"notes-notes";q=3;w=60$/);
      await res.arrayBuffer();
    }
    const refused = await fetch(`${gateway.url}/notes`, { headers: bearer(token) });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await json(refused)).code, 'RATE_LIMIT_EXCEEDED');
  });

  test('the service’s paths are in the gateway’s merged /openapi.json, with the gateway’s answers', async () => {
    const res = await fetch(`${gateway.url}/openapi.json`);
    assert.equal(res.status, 200);
    const document = (await res.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
    };
    assert.deepEqual(Object.keys(document.paths['/notes']!).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(document.paths['/notes/{id}']!).sort(), ['delete', 'get']);
    const list = document.paths['/notes']!.get!;
    assert.deepEqual(list.security, [{ oauth2: ['notes:read'] }]);
    for (const status of ['401', '403', '429']) assert.ok(list.responses[status], status);
    assert.ok(document.paths['/notes']!.post!.responses['413'], 'a body limit');
  });
});
