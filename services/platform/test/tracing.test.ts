/**
 * One request, one trace, across processes: the gateway and the catalog run as processes of
 * their own (`node services/<name>/src/main.ts`), configured only with the standard OpenTelemetry
 * variables, and export over OTLP/HTTP JSON to a receiver in this test, which decodes what they
 * send. A request that arrives with a `traceparent` gives one trace holding the gateway's server
 * span (child of the caller's), its upstream call, the catalog's server span under that call and
 * the catalog's SQL on PostgreSQL under the catalog's span; the catalog's log line carries the
 * same trace id. Without a `traceparent` the gateway starts the trace. Through the console
 * (a third process), its BFF's call to the gateway is in the browser's trace too. On SQLite, the
 * embedded default, the catalog's statements are spans under its request as well.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { freePort, type Proc, scratch, startJwks, startService, stopAll, waitFor } from './faults/procs.ts';

const DATABASE_URL = process.env.TEST_DATABASE_URL;
if (!DATABASE_URL && process.env.CI) throw new Error('TEST_DATABASE_URL must be set in CI');

interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP JSON receiver: keeps every span posted to /v1/traces. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      assert.match(String(req.headers['content-type']), /^application\/json/);
      const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpTraces;
      for (const resource of body.resourceSpans ?? []) {
        const service = String(attributes(resource.resource?.attributes)['service.name']);
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              service,
              scope: scope.scope?.name ?? '',
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? '',
              name: span.name,
              kind: span.kind,
              attributes: attributes(span.attributes),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{
      scope?: { name: string };
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: Array<{ key: string; value: OtlpValue }>;
      }>;
    }>;
  }>;
}

function attributes(list: Array<{ key: string; value: OtlpValue }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? [])
    out[key] = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
  return out;
}

type Rig = Awaited<ReturnType<typeof startRig>>;

/**
 * What every process here is started with: an OTLP receiver and the variables that export to it
 * (batches every 200 ms instead of 5 s: the test waits less), an issuer's JWKS and the variables
 * that trust it, a scratch directory, and a gateway file routing /api/v1/products to a catalog
 * on `catalogPort`.
 */
async function startRig() {
  const receiver = await startReceiver();
  const jwks = await startJwks();
  const dir = await scratch();
  const catalogPort = await freePort();
  const gatewayFile = await dir.file('gateway.json', {
    upstreams: { catalog: { instances: [`http://127.0.0.1:${catalogPort}`] } },
    routes: [
      { name: 'products', path: '/api/v1/products', upstream: 'catalog', auth: { default: 'public' } },
    ],
  });
  return {
    receiver,
    jwks,
    dir,
    catalogPort,
    gatewayFile,
    otel: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
    auth: {
      AUTH_ISSUER: jwks.issuer.issuer,
      AUTH_AUDIENCE: jwks.issuer.audience,
      AUTH_JWKS_URI: jwks.jwksUri,
    },
    async close() {
      await receiver.close();
      await jwks.close();
      await dir.remove();
    },
  };
}

// OTLP span kinds.
const SERVER = 2;
const CLIENT = 3;

describe('tracing across processes: console → gateway → catalog → PostgreSQL', {
  skip: !DATABASE_URL,
}, () => {
  const suffix = randomBytes(4).toString('hex');
  const schemas = [`t_${suffix}_catalog`, `t_${suffix}_web`];
  let rig: Rig;
  let catalog: Proc;
  let gateway: Proc;
  let web: Proc;

  before(
    async () => {
      rig = await startRig();
      const { auth } = rig;
      const otel = { ...rig.otel, LOG_LEVEL: 'info' };
      const gatewayPort = await freePort();
      // One after another: three processes loading the SDK at once on a busy two-core machine
      // can take longer than a start is given.
      catalog = await startService(
        'catalog',
        { ...otel, ...auth, DATABASE_URL: DATABASE_URL!, CATALOG_DATABASE_SCHEMA: schemas[0]! },
        { port: rig.catalogPort },
      );
      gateway = await startService(
        'gateway',
        { ...otel, ...auth, GATEWAY_FILE: rig.gatewayFile, GATEWAY_WATCH: 'false' },
        { port: gatewayPort },
      );
      web = await startService('web', {
        ...otel,
        DATABASE_URL: DATABASE_URL!,
        WEB_DATABASE_SCHEMA: schemas[1]!,
        WEB_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
        WEB_OIDC_ISSUER: rig.jwks.issuer.issuer,
        PORTICO_WEB_CLIENT_SECRET: randomBytes(16).toString('hex'),
      });
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await stopAll();
    await rig?.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await client.end();
    }
  });

  /**
   * The trace's spans once the catalog's (its SQL, unless `sql` is false) and `also`'s server
   * span have arrived: each process sends its own batches.
   */
  async function traceOf(traceId: string, also = 'portico-gateway', sql = true) {
    return waitFor(
      `spans of trace ${traceId} from the catalog and ${also}`,
      () => {
        const spans = rig.receiver.spans.filter((s) => s.traceId === traceId);
        const catalog = spans.some(
          (s) =>
            s.service === 'portico-catalog' && (sql ? s.attributes['db.system.name'] : s.kind === SERVER),
        );
        const server = spans.some((s) => s.service === also && s.kind === SERVER);
        return catalog && server && spans;
      },
      60_000,
    );
  }

  test('a request with a traceparent: one trace, the gateway, its upstream call, the catalog, its SQL', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const res = await fetch(`${gateway.url}/api/v1/products?limit=2`, {
      headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();

    const spans = await traceOf(traceId);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const gatewayServer = spans.find((s) => s.service === 'portico-gateway' && s.kind === SERVER)!;
    assert.equal(gatewayServer.parentSpanId, callerSpan, 'the gateway continues the caller’s trace');
    assert.equal(gatewayServer.name, 'GET /api/v1/products', 'named after the gateway route');

    const upstreamCall = spans.find((s) => s.service === 'portico-gateway' && s.kind === CLIENT);
    assert.ok(upstreamCall, `the gateway's call to the catalog is a span: ${JSON.stringify(spans)}`);
    assert.equal(upstreamCall.parentSpanId, gatewayServer.spanId);
    assert.equal(upstreamCall.scope, '@opentelemetry/instrumentation-undici');

    const catalogServer = spans.find((s) => s.service === 'portico-catalog' && s.kind === SERVER)!;
    assert.ok(catalogServer, 'the catalog’s server span is in the same trace');
    assert.equal(catalogServer.parentSpanId, upstreamCall.spanId, 'under the gateway’s upstream call');

    // Every catalog SQL span descends from the catalog's server span (through Fastify's spans).
    const sql = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    assert.ok(sql.length > 0, 'the catalog’s queries are spans');
    for (const span of sql) {
      let at: ReceivedSpan | undefined = span;
      while (at && at.spanId !== catalogServer.spanId) at = byId.get(at.parentSpanId);
      assert.ok(at, `${span.name} hangs under the catalog's request`);
    }

    // The catalog's request line names the trace (pino's instrumentation).
    const line = await waitFor('the catalog’s request line', () =>
      catalog
        .output()
        .split('\n')
        .find((l) => l.includes('"path":"/api/v1/products"') && l.includes(traceId)),
    );
    assert.match(line, /"status":200/);
    // And so does the gateway's.
    await waitFor('the gateway’s request line', () =>
      gateway
        .output()
        .split('\n')
        .find((l) => l.includes('"route":"products"') && l.includes(`"trace_id":"${traceId}"`)),
    );
  });

  test('a request without one: the gateway starts the trace and the catalog joins it', async () => {
    const before = new Set(rig.receiver.spans.map((s) => s.traceId));
    const res = await fetch(`${gateway.url}/api/v1/products?limit=1`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const traceId = await waitFor('a new trace from the gateway', () =>
      rig.receiver.spans.find(
        (s) => s.service === 'portico-gateway' && s.kind === SERVER && !before.has(s.traceId),
      ),
    );
    assert.equal(traceId.parentSpanId, '', 'the gateway’s span is the root');
    const spans = await traceOf(traceId.traceId);
    assert.ok(spans.some((s) => s.service === 'portico-catalog' && s.kind === SERVER));
  });

  test('a sampled-out request: no spans anywhere, yet the catalog’s line carries its trace id', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${gateway.url}/api/v1/products?limit=3`, {
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-00` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // The gateway makes no span for its upstream call then, but sends the trace on (flag off).
    await waitFor('the catalog’s request line with the sampled-out trace id', () =>
      catalog
        .output()
        .split('\n')
        .find((l) => l.includes('"path":"/api/v1/products"') && l.includes(`"trace_id":"${traceId}"`)),
    );
    // A sampled request after it: once its spans are in, the first one's would have been too.
    const sampled = randomBytes(16).toString('hex');
    const next = await fetch(`${gateway.url}/api/v1/products?limit=3`, {
      headers: { traceparent: `00-${sampled}-${randomBytes(8).toString('hex')}-01` },
    });
    await next.body?.cancel();
    await traceOf(sampled, 'portico-gateway', false);
    assert.deepEqual(
      rig.receiver.spans.filter((s) => s.traceId === traceId),
      [],
      'neither the gateway nor the catalog exports a sampled-out trace',
    );
  });

  test('through the console: its BFF call to the gateway joins the browser’s trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const browserSpan = randomBytes(8).toString('hex');
    const res = await fetch(`${web.url}/api/v1/products?limit=1`, {
      headers: { traceparent: `00-${traceId}-${browserSpan}-01` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // Not the catalog's SQL: it answers this read from its cache (the first test asked the same).
    const spans = await traceOf(traceId, 'portico-web', false);
    const webServer = spans.find((s) => s.service === 'portico-web' && s.kind === SERVER)!;
    assert.equal(webServer.parentSpanId, browserSpan);
    const bff = spans.find((s) => s.service === 'portico-web' && s.kind === CLIENT);
    assert.ok(bff, 'the console’s call to the gateway is a span');
    const gatewayServer = await waitFor('the gateway’s span', () =>
      rig.receiver.spans.find(
        (s) => s.traceId === traceId && s.service === 'portico-gateway' && s.kind === SERVER,
      ),
    );
    assert.equal(gatewayServer.parentSpanId, bff.spanId, 'the gateway’s span is under the console’s call');
    const catalogServer = spans.find((s) => s.service === 'portico-catalog' && s.kind === SERVER)!;
    const gatewayCall = rig.receiver.spans.find((s) => s.spanId === catalogServer.parentSpanId);
    assert.equal(gatewayCall?.parentSpanId, gatewayServer.spanId, 'and the catalog under the gateway’s call');
  });
});

/**
 * The embedded default's database: the catalog on SQLite, which no OpenTelemetry instrumentation
 * covers; @portico/store makes its statements spans (sqlite-spans.ts), in the same trace.
 */
describe('tracing across processes: gateway → catalog → SQLite', () => {
  let rig: Rig;
  const procs: Proc[] = [];

  before(
    async () => {
      rig = await startRig();
      const { otel, auth } = rig;
      procs.push(
        await startService(
          'catalog',
          { ...otel, ...auth, DATABASE_URL: `sqlite:${rig.dir.dir}/catalog.db` },
          { port: rig.catalogPort },
        ),
      );
      procs.push(
        await startService('gateway', {
          ...otel,
          ...auth,
          GATEWAY_FILE: rig.gatewayFile,
          GATEWAY_WATCH: 'false',
        }),
      );
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await Promise.all(procs.map((proc) => proc.stop()));
    await rig?.close();
  });

  test('the catalog’s SQL on SQLite is CLIENT spans under the catalog’s request', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${procs[1]!.url}/api/v1/products?limit=2`, {
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();

    const spans = await waitFor(
      `the catalog's SQL spans and the gateway's span of trace ${traceId}`,
      () => {
        const spans = rig.receiver.spans.filter((s) => s.traceId === traceId);
        return (
          spans.some((s) => s.attributes['db.system.name'] === 'sqlite') &&
          spans.some((s) => s.service === 'portico-gateway' && s.kind === SERVER) &&
          spans
        );
      },
      60_000,
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const upstreamCall = spans.find((s) => s.service === 'portico-gateway' && s.kind === CLIENT)!;
    const catalogServer = spans.find((s) => s.service === 'portico-catalog' && s.kind === SERVER)!;
    assert.equal(catalogServer.parentSpanId, upstreamCall.spanId, 'the catalog is under the gateway’s call');

    const sql = spans.filter((s) => s.attributes['db.system.name'] === 'sqlite');
    const select = sql.find((s) => s.name === 'SELECT products');
    assert.ok(select, `the products query is a span: ${sql.map((s) => s.name).join(', ')}`);
    assert.equal(select.attributes['db.operation.name'], 'SELECT');
    assert.equal(select.attributes['db.collection.name'], 'products');
    assert.match(String(select.attributes['db.query.text']), /^select .* from "products"/);
    assert.equal(select.scope, '@portico/store');
    for (const span of sql) {
      assert.equal(span.service, 'portico-catalog');
      assert.equal(span.kind, CLIENT);
      let at: ReceivedSpan | undefined = span;
      while (at && at.spanId !== catalogServer.spanId) at = byId.get(at.parentSpanId);
      assert.ok(at, `${span.name} hangs under the catalog's request`);
    }
  });
});
