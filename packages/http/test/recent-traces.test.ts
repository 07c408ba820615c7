/**
 * The embedded default's traces: with no exporter configured and PORTICO_RECENT_TRACES set
 * (npm start sets it), a service keeps its recent traces in process and its operator port
 * serves them as JSON. The SDK starts before Fastify loads, as a service's main does it.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTelemetry, stopTelemetry } from '@portico/telemetry';

for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
process.env.PORTICO_RECENT_TRACES = '3';
assert.deepEqual(await startTelemetry('portico-test'), { tracing: true });
const { createServer } = await import('../src/index.ts');

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function rawGet(url: string, path: string, traceparent: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nhost: ${hostname}\r\ntraceparent: ${traceparent}\r\nconnection: close\r\n\r\n`,
      );
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('recent traces on the operator port', () => {
  let server: Awaited<ReturnType<typeof createServer>>;
  let url: string;
  let operator: string;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const stream = { write: (line: string) => void lines.push(JSON.parse(line)) };
    server = await createServer({ name: 'test', fastify: { logger: { level: 'info', stream } } });
    server.get('/things/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    server.get('/sampled', async () => ({ ok: true }));
    server.get('/unsampled', async () => ({ ok: true }));
    url = await server.listen({ port: 0, host: '127.0.0.1' });
    operator = await server.operator.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await server.close();
    await stopTelemetry();
  });

  async function traces() {
    const res = await fetch(`${operator}/traces`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return (await res.json()) as {
      limit: number;
      traces: Array<{ trace_id: string; root: string; spans: number }>;
    };
  }

  test('a request is a trace, continued from its traceparent, listed and readable by id', async () => {
    // Over a bare socket: fetch in this process is instrumented too, and would send its own.
    const head = await rawGet(url, '/things/7', `00-${TRACE}-00f067aa0ba902b7-01`);
    assert.match(head, /^HTTP\/1\.1 200 /);
    const listed = await traces();
    assert.equal(listed.limit, 3);
    const found = listed.traces.find((t) => t.trace_id === TRACE);
    assert.ok(found, JSON.stringify(listed));
    assert.equal(found.root, 'GET /things/:id');

    const one = await fetch(`${operator}/traces?trace_id=${TRACE}`);
    const trace = (await one.json()) as {
      spans: Array<{
        name: string;
        kind: string;
        parent_span_id?: string;
        service: string;
        attributes: Record<string, unknown>;
      }>;
    };
    const root = trace.spans.find((s) => s.kind === 'server')!;
    assert.equal(root.parent_span_id, '00f067aa0ba902b7');
    assert.equal(
      root.attributes['portico.service'],
      'test',
      'the server span names the service that served it',
    );
    assert.equal(root.service, 'portico-test');
    assert.ok(trace.spans.length > 1, 'Fastify’s own spans under the server span');

    // Log lines written while the request's span is active carry its ids.
    const line = lines.find((l) => l.path === '/things/7')!;
    assert.equal(line.trace_id, TRACE);
    assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
  });

  test('bounded: the oldest trace goes once more than the limit were kept', async () => {
    for (let n = 0; n < 4; n++) await (await fetch(`${url}/things/${n}`)).text();
    const listed = await traces();
    assert.equal(listed.traces.length, 3);
    assert.ok(!listed.traces.some((t) => t.trace_id === TRACE));
  });

  test('an id that is no trace id is 400, one not kept is 404, both problem+json', async () => {
    const bad = await fetch(`${operator}/traces?trace_id=nope`);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await bad.json()) as { code: string }).code, 'VALIDATION_ERROR');
    const gone = await fetch(`${operator}/traces?trace_id=${'0'.repeat(31)}1`);
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { code: string }).code, 'NOT_FOUND');
  });

  test('probes and operator calls make no traces', async () => {
    const before = (await traces()).traces.map((t) => t.trace_id);
    await (await fetch(`${url}/health`)).text();
    await (await fetch(`${operator}/metrics`)).text();
    assert.deepEqual(
      (await traces()).traces.map((t) => t.trace_id),
      before,
    );
  });

  test('a sampled request is an exemplar of the duration histogram in OpenMetrics; the classic text has none', async () => {
    const sampled = 'a'.repeat(32);
    const unsampled = 'b'.repeat(32);
    assert.match(await rawGet(url, '/sampled', `00-${sampled}-00f067aa0ba902b7-01`), /^HTTP\/1\.1 200 /);
    assert.match(await rawGet(url, '/unsampled', `00-${unsampled}-00f067aa0ba902b7-00`), /^HTTP\/1\.1 200 /);

    // What Prometheus 3 sends.
    const accept =
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
    const open = await fetch(`${operator}/metrics`, { headers: { accept } });
    assert.equal(
      open.headers.get('content-type'),
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const body = await open.text();
    assert.ok(body.endsWith('# EOF\n'));
    const lines = body.split('\n');
    const exemplars = lines.filter((l) => l.includes(`trace_id="${sampled}"`));
    assert.ok(exemplars.length > 0, body);
    for (const line of exemplars)
      assert.match(
        line,
        /^http_request_duration_seconds_bucket\{[^}]*route="\/sampled"[^}]*\} \d+ # \{trace_id="a{32}"\} [\d.e-]+ [\d.]+$/,
      );
    assert.ok(!body.includes(unsampled), 'an unsampled trace is no exemplar: nothing keeps it');
    assert.ok(
      lines.some(
        (l) => l.startsWith('http_request_duration_seconds_bucket{') && l.includes('route="/unsampled"'),
      ),
    );
    assert.ok(
      lines.includes('# TYPE process_cpu_seconds counter'),
      'OpenMetrics names a counter without _total',
    );
    assert.ok(lines.some((l) => l.startsWith('process_cpu_seconds_total{')));

    // Asked for nothing in particular (or after an OpenMetrics scrape), the classic text.
    for (const headers of [{}, { accept: 'text/plain' }] as Array<Record<string, string>>) {
      const classic = await fetch(`${operator}/metrics`, { headers });
      assert.equal(classic.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const text = await classic.text();
      assert.ok(!text.includes('# {'), 'no exemplars in the classic text');
      assert.ok(!text.includes('# EOF'));
      assert.ok(text.includes('# TYPE process_cpu_seconds_total counter'), 'counters keep their _total');
      assert.match(text, /^http_request_duration_seconds_count\{[^}]*route="\/sampled"[^}]*\} 1$/m);
    }
  });
});
