/**
 * `portico gateway import`, piece by piece: an OpenAPI document's paths, security and
 * x-portico-* extensions as gateway-file routes (routes.ts); the document read from a file with
 * its $refs resolved and its problems named by place (read.ts); the entries merged into a
 * gateway file that keeps everything else, checked by the gateway's own schema (gateway-file.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadGatewayFile } from '../src/config.ts';
import { openGatewayFile, withImported } from '../src/import/gateway-file.ts';
import { importDocument } from '../src/import/import.ts';
import { readDocument } from '../src/import/read.ts';
import { ImportError, type ImportOptions, importRoutes, literalRoute } from '../src/import/routes.ts';

type Json = Record<string, unknown>;
const dir = mkdtempSync(join(tmpdir(), 'portico-import-'));
const EXAMPLE = new URL('../examples/notes/openapi.yaml', import.meta.url).pathname;

const ok = { responses: { '200': { description: 'OK' } } };
const schemes = {
  oauth2: {
    type: 'oauth2',
    flows: { clientCredentials: { tokenUrl: 'http://id/token', scopes: { a: 'a', b: 'b', c: 'c' } } },
  },
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  key: { type: 'apiKey', in: 'header', name: 'x-api-key' },
};

function doc(paths: Json, extra: Json = {}): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'Things API', version: '1' },
    servers: [{ url: 'http://10.0.0.7:8080' }],
    paths,
    components: { securitySchemes: schemes },
    ...extra,
  };
}

let targetKeys: Set<string> | undefined;
async function routeKeys(): Promise<Set<string>> {
  targetKeys ??= (await openGatewayFile(join(dir, 'keys.yaml'))).routeKeys;
  return targetKeys;
}

async function mapped(document: Json, options: Partial<ImportOptions> = {}) {
  return importRoutes(document, { source: 'things.yaml', routeKeys: await routeKeys(), ...options });
}

async function refused(document: Json, options: Partial<ImportOptions> = {}): Promise<string[]> {
  try {
    await mapped(document, options);
  } catch (err) {
    assert.ok(err instanceof ImportError, String(err));
    return err.issues;
  }
  assert.fail('the import was not refused');
}

function write(name: string, body: Json | string): string {
  const file = join(dir, name);
  writeFileSync(file, typeof body === 'string' ? body : stringify(body));
  return file;
}

const routeOf = (routes: Json[], name: string) => routes.find((route) => route.name === name) as Json;

describe('import: an OpenAPI document as gateway routes', () => {
  test('the example: its server, one route per path with its methods, scopes per method, its x-portico-* keys', async () => {
    const imported = await mapped((await readDocument(EXAMPLE)) as Json, { source: EXAMPLE });
    assert.deepEqual(imported.upstream, {
      name: 'notes',
      definition: { instances: ['http://127.0.0.1:8090'], healthCheck: { path: '/health', interval: '10s' } },
    });
    assert.deepEqual(imported.routes, [
      {
        name: 'notes-notes',
        path: '/notes',
        exact: true,
        methods: ['GET', 'POST'],
        upstream: 'notes',
        auth: { read: { scopes: ['notes:read'] }, write: { scopes: ['notes:write'] } },
        rateLimit: { limit: 60, window: '1m' },
        bodyLimit: 16384,
      },
      {
        name: 'notes-notes-id',
        path: '/notes',
        methods: ['GET', 'DELETE'],
        upstream: 'notes',
        auth: { read: { scopes: ['notes:read'] }, write: { scopes: ['notes:write'] } },
        rateLimit: { limit: 60, window: '1m' },
      },
    ]);
    assert.equal(imported.origins.get('notes-notes')!.get('bodyLimit'), 'paths./notes.x-portico-body-limit');
    assert.equal(imported.origins.get('notes-notes')!.get('auth.write'), 'paths./notes.post.security');
  });

  test('an exact route goes before the prefix route on its path, whatever the document’s order', async () => {
    const { routes } = await mapped(
      doc({ '/notes/{id}': { get: ok }, '/other': { get: ok }, '/notes': { get: ok } }),
    );
    assert.deepEqual(
      routes.map((route) => [route.name, route.path, route.exact ?? false]),
      [
        ['things-api-notes', '/notes', true],
        ['things-api-notes-id', '/notes', false],
        ['things-api-other', '/other', true],
      ],
    );
  });

  test('a templated path is a prefix route on its literal part; a plain one exact', () => {
    assert.deepEqual(literalRoute('/notes/{id}'), { path: '/notes', exact: false });
    assert.deepEqual(literalRoute('/v1/files/x{name}.json'), { path: '/v1/files', exact: false });
    assert.deepEqual(literalRoute('/{id}'), { path: '/', exact: false });
    assert.deepEqual(literalRoute('/notes/'), { path: '/notes', exact: true });
    assert.deepEqual(literalRoute('/'), { path: '/', exact: true });
  });

  test('security as rules: none and [] public, an empty alternative public, no scopes token, one scope each any-of', async () => {
    const { routes } = await mapped(
      doc({
        '/open': { get: ok },
        '/listed': { get: { ...ok, security: [] } },
        '/optional': { get: { ...ok, security: [{}, { bearer: [] }] } },
        '/token': { get: { ...ok, security: [{ bearer: [] }] } },
        '/either': { get: { ...ok, security: [{ oauth2: ['a'] }, { oauth2: ['b'] }] } },
      }),
    );
    assert.deepEqual(routeOf(routes, 'things-api-open').auth, { default: 'public' });
    assert.deepEqual(routeOf(routes, 'things-api-listed').auth, { default: 'public' });
    assert.deepEqual(routeOf(routes, 'things-api-optional').auth, { default: 'public' });
    assert.deepEqual(routeOf(routes, 'things-api-token').auth, { default: 'token' });
    assert.deepEqual(routeOf(routes, 'things-api-either').auth, { default: { scopes: ['a', 'b'] } });
  });

  test('the root security holds where an operation has none; all-of scopes become the route’s scopes', async () => {
    const { routes } = await mapped(
      doc(
        { '/both': { get: ok, post: { ...ok, security: [{ oauth2: ['a', 'b'] }] } } },
        { security: [{ oauth2: ['a', 'b'] }] },
      ),
    );
    const route = routeOf(routes, 'things-api-both');
    assert.deepEqual(route.auth, { default: 'token' });
    assert.deepEqual(route.scopes, ['a', 'b']);
  });

  test('all-of scopes the route cannot hold for every guarded method are refused, naming both places', async () => {
    const issues = await refused(
      doc({
        '/mixed': {
          get: { ...ok, security: [{ oauth2: ['a', 'b'] }] },
          post: { ...ok, security: [{ oauth2: ['c'] }] },
          delete: { ...ok, security: [] },
        },
      }),
    );
    assert.equal(issues.length, 1);
    assert.match(
      issues[0]!,
      /^paths\.\/mixed\.get\.security needs all of a, b.*paths\.\/mixed\.post\.security does not/,
    );
  });

  test('x-portico-auth: the operation’s over its security, the path item’s and the root’s where an operation says nothing', async () => {
    const { routes } = await mapped(
      doc(
        {
          '/a': {
            'x-portico-auth': { roles: ['admin'] },
            get: { ...ok, 'x-portico-auth': 'public', security: [{ bearer: [] }] },
            post: ok,
            put: { ...ok, security: [{ oauth2: ['c'] }] },
          },
          '/b': { get: ok },
        },
        { 'x-portico-auth': 'token' },
      ),
    );
    assert.deepEqual(routeOf(routes, 'things-api-a').auth, {
      GET: 'public',
      HEAD: 'public',
      POST: { roles: ['admin'] },
      PUT: { scopes: ['c'] },
    });
    assert.deepEqual(routeOf(routes, 'things-api-b').auth, { default: 'token' });
  });

  test('schemes the gateway does not check, and schemes not declared, are refused by place', async () => {
    const issues = await refused(
      doc({
        '/keyed': { get: { ...ok, security: [{ key: [] }] } },
        '/ghost': { get: { ...ok, security: [{ nobody: [] }] } },
      }),
    );
    assert.equal(issues.length, 2);
    assert.match(
      issues[0]!,
      /^paths\.\/keyed\.get\.security\.0\.key: a apiKey scheme is not one the gateway checks/,
    );
    assert.match(
      issues[1]!,
      /^paths\.\/ghost\.get\.security\.0\.nobody is not in components\.securitySchemes/,
    );
  });

  test('x-portico-<key> is the route key: the path item’s over the root’s; on an operation or unknown, refused by place', async () => {
    const { routes } = await mapped(
      doc(
        {
          '/slow': { 'x-portico-timeout': '30s', 'x-portico-cache': { ttl: '5m' }, get: ok },
          '/fast': { get: ok },
        },
        { 'x-portico-timeout': '2s', 'x-portico-rate-limit': { limit: 10, window: '1m' } },
      ),
    );
    assert.equal(routeOf(routes, 'things-api-slow').timeout, '30s');
    assert.deepEqual(routeOf(routes, 'things-api-slow').cache, { ttl: '5m' });
    assert.equal(routeOf(routes, 'things-api-fast').timeout, '2s');
    assert.deepEqual(routeOf(routes, 'things-api-fast').rateLimit, { limit: 10, window: '1m' });

    const issues = await refused(
      doc({
        '/x': {
          'x-portico-colour': 'red',
          get: { ...ok, 'x-portico-rate-limit': { limit: 1, window: '1m' } },
        },
      }),
    );
    assert.match(
      issues[0]!,
      /^paths\.\/x\.x-portico-colour is not a gateway route setting; these are: x-portico-auth, .*x-portico-rate-limit/,
    );
    assert.match(
      issues[1]!,
      /^paths\.\/x\.get\.x-portico-rate-limit: a gateway route takes it for all its methods; set it on paths\.\/x/,
    );
  });

  test('paths the gateway cannot tell apart are one route; rules that differ for one method there are refused', async () => {
    const { routes } = await mapped(
      doc({
        '/notes/{id}': {
          get: { ...ok, security: [{ oauth2: ['a'] }] },
          delete: { ...ok, security: [{ oauth2: ['b'] }] },
        },
        '/notes/{id}/tags': {
          get: { ...ok, security: [{ oauth2: ['a'] }] },
          post: { ...ok, security: [{ oauth2: ['b'] }] },
        },
      }),
    );
    assert.equal(routes.length, 1);
    assert.deepEqual(routes[0]!.methods, ['GET', 'DELETE', 'POST']);
    assert.equal(routes[0]!.path, '/notes');

    const issues = await refused(
      doc({
        '/notes/{id}': { get: { ...ok, security: [{ oauth2: ['a'] }] } },
        '/notes/{id}/tags': { get: { ...ok, security: [{ oauth2: ['c'] }] } },
      }),
    );
    assert.match(
      issues[0]!,
      /^paths\.\/notes\/\{id\}\/tags\.get\.security differs from paths\.\/notes\/\{id\}\.get\.security for GET, but the gateway serves \/notes\/\{id\} and \/notes\/\{id\}\/tags as one route/,
    );
  });

  test('the command line wins over the document', async () => {
    const { routes } = await mapped(
      doc({
        '/a': {
          'x-portico-rate-limit': { limit: 10, window: '1m' },
          get: { ...ok, security: [{ oauth2: ['a'] }] },
        },
      }),
      { overrides: { rateLimit: { limit: 3, window: '10s' }, auth: 'token', scopes: ['c'] } },
    );
    assert.deepEqual(routes[0]!.rateLimit, { limit: 3, window: '10s' });
    assert.deepEqual(routes[0]!.auth, { default: 'token' });
    assert.deepEqual(routes[0]!.scopes, ['c']);
  });

  test('servers: variables at their defaults, a path kept on the gateway, --prefix with a rewrite back, relative to a URL source', async () => {
    const withBase = doc(
      { '/things': { get: ok } },
      {
        servers: [{ url: 'https://{host}/api/v2', variables: { host: { default: 'things.internal' } } }],
      },
    );
    let imported = await mapped(withBase);
    assert.deepEqual(imported.upstream.definition.instances, ['https://things.internal']);
    assert.equal(imported.routes[0]!.path, '/api/v2/things');
    assert.equal(imported.routes[0]!.transform, undefined);

    imported = await mapped(withBase, { prefix: '/things-api' });
    assert.equal(imported.routes[0]!.path, '/things-api/things');
    assert.deepEqual(imported.routes[0]!.transform, {
      rewrite: { pattern: '^/things\\-api', replacement: '/api/v2' },
    });

    imported = await mapped(doc({ '/things': { get: ok } }, { servers: [{ url: '/svc' }] }), {
      source: 'http://10.1.1.1:9000/openapi.json',
    });
    assert.deepEqual(imported.upstream.definition.instances, ['http://10.1.1.1:9000']);
    assert.equal(imported.routes[0]!.path, '/svc/things');

    assert.deepEqual(await refused(doc({ '/things': { get: ok } }, { servers: [] })), [
      'servers: the document names no server; give --server <url>',
    ]);
    assert.deepEqual(await refused(doc({ '/things': { get: ok } }, { servers: [{ url: '/svc' }] })), [
      'servers.0.url "/svc" is not an absolute URL; give --server <url>',
    ]);
  });
});

describe('import: reading the document', () => {
  test('$refs are resolved: a path item in components and in another file', async () => {
    write('items.yaml', stringify({ get: { ...ok, security: [{ bearer: [] }] } }));
    const file = write(
      'refs.yaml',
      doc(
        { '/local': { $ref: '#/components/pathItems/Local' }, '/remote': { $ref: './items.yaml' } },
        { components: { securitySchemes: schemes, pathItems: { Local: { post: ok } } } },
      ),
    );
    const { routes } = await mapped((await readDocument(file)) as Json);
    assert.deepEqual(routeOf(routes, 'things-api-local').methods, ['POST']);
    assert.deepEqual(routeOf(routes, 'things-api-remote').auth, { default: 'token' });
  });

  test('a bad document is refused naming the place and line; so is an unresolved $ref and a Swagger 2 file', async () => {
    const bad = write(
      'bad.yaml',
      'openapi: 3.1.0\ninfo: { title: t, version: "1" }\npaths:\n  /a:\n    get:\n      responses: 5\n',
    );
    await assert.rejects(readDocument(bad), (err: ImportError) => {
      assert.match(err.issues[0]!, /^paths\.\/a\.get\.responses \(line 6:18\): Expected type `Responses`/);
      return true;
    });
    const dangling = write('dangling.yaml', doc({ '/a': { $ref: '#/components/pathItems/Nope' } }));
    await assert.rejects(readDocument(dangling), (err: ImportError) => {
      assert.match(err.issues[0]!, /^paths\.\/a \(line \d+:\d+\): Can't resolve \$ref/);
      return true;
    });
    const swagger = write(
      'swagger.json',
      JSON.stringify({ swagger: '2.0', info: { title: 't', version: '1' }, paths: {} }),
    );
    await assert.rejects(readDocument(swagger), /not an OpenAPI 3 document \(oas2\)/);
    await assert.rejects(
      readDocument(join(dir, 'missing.yaml')),
      /cannot import .*missing\.yaml:\n {2}- ENOENT/,
    );
  });
});

describe('import: into a gateway file', () => {
  const EXISTING = `# Our gateway.
upstreams:
  shop: { instances: [http://127.0.0.1:7001] }  # the shop

routes:
  # The shop's own routes.
  - name: shop
    path: /shop
    upstream: shop
    auth: { default: public }
`;
  const notes = doc(
    { '/notes': { get: { ...ok, security: [{ oauth2: ['a'] }] } }, '/notes/{id}': { delete: ok } },
    { info: { title: 'notes', version: '1' }, 'x-portico-rate-limit': { limit: 5, window: '1m' } },
  );

  test('added after the file’s last upstream and route, every other line as it was; the result loads', async () => {
    const file = join(dir, 'existing.yaml');
    writeFileSync(file, EXISTING);
    const target = await openGatewayFile(file);
    const text = withImported(target, await mapped(notes, { routeKeys: target.routeKeys }));
    const [before, added] = text.split('\n\n  # notes: from things.yaml (npm run gateway -- import)\n');
    const upstream = '  notes: { instances: [ http://10.0.0.7:8080 ] }\n';
    assert.ok(before!.includes(`# the shop\n${upstream}`));
    assert.equal(`${before!.replace(upstream, '')}\n`, EXISTING);
    assert.match(added!, /^ {2}- name: notes-notes\n/);
    const loaded = loadGatewayFile(parse(text));
    assert.deepEqual(Object.keys(loaded.upstreams), ['shop', 'notes']);
    assert.deepEqual(
      loaded.routes.map((route) => route.name),
      ['shop', 'notes-notes', 'notes-notes-id'],
    );
  });

  test('an upstream of the same name is refused unless replaced, in place; a path another route serves is refused', async () => {
    const file = join(dir, 'again.yaml');
    writeFileSync(file, EXISTING);
    const first = await importDocument({ source: write('notes.yaml', notes), file });
    assert.equal(readFileSync(file, 'utf8'), first.text);
    await assert.rejects(importDocument({ source: join(dir, 'notes.yaml'), file }), (err: ImportError) => {
      assert.deepEqual(err.issues, [
        `upstreams.notes is already in ${file} (routes notes-notes, notes-notes-id): --replace replaces it and its routes, --upstream names another`,
      ]);
      return true;
    });
    await importDocument({
      source: join(dir, 'notes.yaml'),
      file,
      replace: true,
      overrides: { rateLimit: { limit: 9, window: '1m' } },
    });
    const replaced = readFileSync(file, 'utf8');
    assert.equal(replaced.match(/# notes: from/g)?.length, 1, 'one comment, the new import’s');
    assert.equal(replaced, first.text.replaceAll('limit: 5', 'limit: 9'));

    const clash = doc({ '/shop': { get: ok } }, { info: { title: 'other', version: '1' } });
    await assert.rejects(
      importDocument({ source: write('clash.yaml', clash), file }),
      /\/shop is already served by route shop in .*; --prefix puts the imported paths elsewhere/,
    );
  });

  test('a value the gateway refuses is named where the document set it; nothing is written', async () => {
    const file = join(dir, 'refused.yaml');
    writeFileSync(file, EXISTING);
    const bad = doc(
      {
        '/notes': {
          'x-portico-rate-limit': { limit: 0, window: 'soon' },
          get: { ...ok, 'x-portico-auth': 'anyone' },
        },
      },
      { info: { title: 'notes', version: '1' }, 'x-portico-upstream': { healthCheck: { path: 'health' } } },
    );
    await assert.rejects(
      importDocument({ source: write('bad-values.yaml', bad), file }),
      (err: ImportError) => {
        assert.deepEqual(err.issues.sort(), [
          'paths./notes.get.x-portico-auth must be "public", "token", or { roles: [...], scopes: [...], mfa: true }',
          'paths./notes.x-portico-rate-limit.limit must be >= 1',
          'paths./notes.x-portico-rate-limit.window must be milliseconds or a duration such as "500ms", "10s", "1m", "1h"',
          'x-portico-upstream.healthCheck.path must match pattern "^/"',
        ]);
        return true;
      },
    );
    assert.equal(readFileSync(file, 'utf8'), EXISTING);
  });

  test('a new file, and a JSON one', async () => {
    const source = write('notes-new.yaml', notes);
    const yamlFile = join(dir, 'new.yaml');
    await importDocument({ source, file: yamlFile });
    assert.equal(loadGatewayFile(yamlFile).routes.length, 2);
    const jsonFile = join(dir, 'gateway.json');
    writeFileSync(jsonFile, JSON.stringify({ upstreams: {}, routes: [] }));
    await importDocument({ source, file: jsonFile });
    assert.deepEqual(JSON.parse(readFileSync(jsonFile, 'utf8')).upstreams.notes, {
      instances: ['http://10.0.0.7:8080'],
    });
  });
});
