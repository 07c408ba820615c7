/**
 * Policies written outside Portico (the gateway file's `plugins:`), through the same contract
 * as the built-ins: the example in examples/api-version/, loaded by path from a gateway file on
 * disk and from a definition in code; its keys checked with the file's; refusals on the one
 * problem+json path; a module that is not a policy, or a key a built-in owns, refused at load.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigSchema, type GatewayFile } from '../src/build.ts';
import { loadGatewayFile } from '../src/config.ts';
import { pluginsOf } from '../src/plugins.ts';
import type { TestGateway, TestUpstream } from './support/harness.ts';
import { definition, json, startGateway, startUpstream } from './support/harness.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/api-version/index.ts', import.meta.url));

describe('outside policies (plugins)', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream();
    gw = await startGateway(
      definition(
        { svc: [up.url] },
        [
          {
            name: 'versioned',
            path: '/versioned',
            upstream: 'svc',
            auth: { default: 'public' },
            apiVersion: { versions: ['2025-01-01', '2026-01-01'], default: '2026-01-01' },
          },
          {
            name: 'strict',
            path: '/strict',
            upstream: 'svc',
            auth: { default: 'public' },
            apiVersion: { versions: ['1'], header: 'X-Version' },
          },
          { name: 'plain', path: '/plain', upstream: 'svc', auth: { default: 'public' } },
        ] as never,
        { plugins: [EXAMPLE] } as Partial<GatewayFile>,
      ),
    );
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('a served version goes upstream and comes back on the answer', async () => {
    const res = await fetch(`${gw.url}/versioned/x`, { headers: { 'api-version': '2025-01-01' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('api-version'), '2025-01-01');
    const body = await json(res);
    assert.equal((body.headers as Record<string, string>)['api-version'], '2025-01-01');
  });

  test("without the header the route's default applies", async () => {
    const res = await fetch(`${gw.url}/versioned/x`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('api-version'), '2026-01-01');
    await res.arrayBuffer();
  });

  test('another version is a 400 problem naming the versions served, with the request id', async () => {
    const res = await fetch(`${gw.url}/versioned/x`, { headers: { 'api-version': '2019-01-01' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = await json(res);
    assert.equal(body.code, 'API_VERSION_UNSUPPORTED');
    assert.deepEqual(body.supported, ['2025-01-01', '2026-01-01']);
    assert.equal(body.request_id, res.headers.get('x-request-id'));
    assert.ok(!up.seen.some((seen) => seen.headers['api-version'] === '2019-01-01'), 'never sent upstream');
  });

  test('no header and no default is refused; its own header name is used', async () => {
    const none = await fetch(`${gw.url}/strict/x`);
    assert.equal(none.status, 400);
    assert.match(String((await json(none)).detail), /Name a version in X-Version/);
    const ok = await fetch(`${gw.url}/strict/x`, { headers: { 'x-version': '1' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-version'), '1');
    await ok.arrayBuffer();
  });

  test('a route that does not set it is not touched', async () => {
    const res = await fetch(`${gw.url}/plain/x`, { headers: { 'api-version': 'anything' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('api-version'), null);
    await res.arrayBuffer();
  });
});

describe('outside policies on WebSocket upgrades', () => {
  test('an upgrade runs the policies that declare upgrades, and only those; their refusals are problem+json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-plugins-ws-'));
    // Written as an outside module would be, without imports: a definition is plain data and a factory.
    const tagger = (name: string, upgrades: boolean) => {
      const path = join(dir, `${name}.ts`);
      writeFileSync(
        path,
        `export default {
  name: '${name}', priority: 1100, upgrades: ${upgrades},
  route: { ${name}: { type: 'string', '~optional': true } },
  create: ({ ${name}: value }) => value === undefined ? undefined : async (ctx, next) => {
    if (ctx.req.headers['x-refuse'] === '${name}') throw Object.assign(new Error('no'), { refused: true });
    ctx.replyHeaders['x-${name}'] = value;
    return next();
  },
};\n`,
      );
      return path;
    };
    const up = await startUpstream();
    const wss = new WebSocketServer({ noServer: true });
    up.server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(`echo:${data}`))),
    );
    const gw = await startGateway(
      definition(
        { svc: [up.url] },
        [
          {
            name: 'live',
            path: '/live',
            upstream: 'svc',
            websocket: true,
            auth: { default: 'public' },
            onUpgrade: 'yes',
            httpOnly: 'yes',
          },
        ] as never,
        { plugins: [tagger('onUpgrade', true), tagger('httpOnly', false)] } as Partial<GatewayFile>,
      ),
    );
    try {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/live`);
      const opened = new Promise((resolve) => ws.once('open', resolve));
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.on('upgrade', (res) => resolve(res.headers));
        ws.on('error', reject);
      });
      assert.equal(headers['x-onupgrade'], 'yes');
      assert.equal(headers['x-httponly'], undefined);
      await opened;
      ws.send('hi');
      assert.equal(String(await new Promise((resolve) => ws.once('message', resolve))), 'echo:hi');
      ws.close();

      const http = await fetch(`${gw.url}/live/x`);
      assert.equal(http.headers.get('x-onupgrade'), 'yes');
      assert.equal(http.headers.get('x-httponly'), 'yes');
      await http.arrayBuffer();

      // An unexpected error in a policy is a 500 problem on the upgrade, its details kept in the log.
      const refused = new WebSocket(`${gw.url.replace('http', 'ws')}/live`, {
        headers: { 'x-refuse': 'onUpgrade' },
      });
      const answer = await new Promise<{ status: number; type: string; body: string }>((resolve) => {
        refused.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }),
          );
        });
        refused.on('error', () => {});
      });
      assert.equal(answer.status, 500);
      assert.equal(answer.type, 'application/problem+json');
      assert.equal(JSON.parse(answer.body).code, 'INTERNAL_ERROR');
    } finally {
      await gw.close();
      wss.close();
      await up.close();
    }
  });
});

describe('loading plugins from the gateway file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-plugins-'));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const file = (plugin: string, route: string) =>
    write(
      'gateway.yaml',
      `plugins: [${plugin}]\nupstreams:\n  svc: { instances: ['http://127.0.0.1:1'] }\nroutes:\n  - { name: r, path: /r, upstream: svc, ${route} }\n`,
    );
  const refusal = async (source: string) => {
    try {
      loadGatewayFile(source, await pluginsOf(source));
    } catch (err) {
      return (err as { issues: string[] }).issues;
    }
    return [];
  };

  test('a path is read from the file’s folder, and the plugin’s keys are checked with the rest', async () => {
    const path = relative(dir, EXAMPLE);
    const source = file(`'${path.startsWith('.') ? path : `./${path}`}'`, "apiVersion: { versions: ['1'] }");
    const loaded = loadGatewayFile(source, await pluginsOf(source));
    assert.deepEqual((loaded.routes[0] as Record<string, unknown>).apiVersion, {
      versions: ['1'],
      header: 'api-version',
    });
    const bad = file(`'${EXAMPLE}'`, "apiVersion: { versions: [], colour: 'red' }");
    assert.deepEqual(await refusal(bad), [
      'unknown key routes.0.apiVersion.colour',
      'routes.0.apiVersion.versions must not have fewer than 1 items',
    ]);
  });

  test("the plugin's own check runs at load with the file's", async () => {
    const source = file(`'${EXAMPLE}'`, "apiVersion: { versions: ['1', '2'], default: '3' }");
    assert.deepEqual(await refusal(source), ['routes.0.apiVersion.default "3" is not one of its versions']);
  });

  test('without the plugin its key is unknown', async () => {
    const source = file('', "apiVersion: { versions: ['1'] }");
    assert.deepEqual(await refusal(source), ['unknown key routes.0.apiVersion']);
  });

  test('a module that is not a policy, or cannot be found, is refused naming the entry', async () => {
    const notPolicy = write('not-policy.ts', 'export default { hello: 1 };\n');
    assert.match(
      (await refusal(file(`'${notPolicy}'`, 'exact: true')))[0]!,
      /plugins\.0 ".*not-policy\.ts" does not export a policy/,
    );
    assert.match(
      (await refusal(file("'./missing.ts'", 'exact: true')))[0]!,
      /plugins\.0 "\.\/missing\.ts" cannot be loaded/,
    );
  });

  test('a plugin that claims a key a built-in owns is refused', async () => {
    const clash = write(
      'clash.ts',
      `export default { name: 'mine', priority: 1, route: { rateLimit: { type: 'string' } }, create: () => undefined };\n`,
    );
    assert.deepEqual(await refusal(file(`'${clash}'`, 'exact: true')), [
      "policy mine claims route key rateLimit, which is rate-limit's",
    ]);
  });

  test('the service config reads the hot path through its schema', () => {
    assert.equal((ConfigSchema.properties.hotPath as { env?: string }).env, 'GATEWAY_HOT_PATH');
  });
});
