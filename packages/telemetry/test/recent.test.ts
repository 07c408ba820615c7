import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { recentTraces } from '../src/recent.ts';
import { telemetrySettings } from '../src/settings.ts';

let clock = 1_700_000_000;
function span(
  traceId: string,
  spanId: string,
  parent?: string,
  name = 'GET /things',
  error = false,
): ReadableSpan {
  clock += 1;
  return {
    name,
    kind: 1,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    ...(parent ? { parentSpanContext: { traceId, spanId: parent, traceFlags: 1 } } : {}),
    startTime: [clock, 0],
    endTime: [clock, 5_000_000],
    duration: [0, 5_000_000],
    status: { code: error ? 2 : 0, ...(error ? { message: 'boom' } : {}) },
    attributes: { 'http.route': '/things' },
    links: [],
    events: [],
    ended: true,
    resource: { attributes: { 'service.name': 'portico-catalog' } },
  } as unknown as ReadableSpan;
}

const id = (n: number) => n.toString(16).padStart(32, '0');

describe('recent traces kept in process', () => {
  test('a trace is its spans, root first in its summary; newest trace listed first', () => {
    const store = recentTraces(10);
    store.onEnd(span(id(1), 'b'.repeat(16), 'a'.repeat(16), 'pg.query'));
    store.onEnd(span(id(1), 'a'.repeat(16), undefined, 'GET /things'));
    store.onEnd(span(id(2), 'c'.repeat(16), undefined, 'GET /other', true));
    const [newest, oldest] = store.list();
    assert.equal(newest!.trace_id, id(2));
    assert.equal(newest!.error, true);
    assert.deepEqual(
      { root: oldest!.root, spans: oldest!.spans, services: oldest!.services },
      { root: 'GET /things', spans: 2, services: ['portico-catalog'] },
    );
    const trace = store.get(id(1))!;
    assert.deepEqual(
      trace.spans.map((s) => [s.name, s.kind, s.parent_span_id ?? null, s.duration_ms]),
      [
        ['GET /things', 'server', null, 5],
        ['pg.query', 'server', 'a'.repeat(16), 5],
      ],
    );
    assert.equal(store.get(id(3)), undefined);
  });

  test('each span after its parent, even one whose clock read earlier; siblings in start order', () => {
    const store = recentTraces(10);
    const at = (s: ReadableSpan, nanos: number) =>
      ({ ...s, spanContext: s.spanContext, startTime: [1_800_000_000, nanos] }) as unknown as ReadableSpan;
    // Children end first, as they do. The catalog's start reads before the gateway's client span
    // above it (the SDK anchors each start to Date.now(), to the millisecond).
    store.onEnd(at(span(id(4), 'd'.repeat(16), 'c'.repeat(16), 'catalog'), 100_000));
    store.onEnd(at(span(id(4), 'c'.repeat(16), 'b'.repeat(16), 'gateway client'), 400_000));
    store.onEnd(at(span(id(4), 'e'.repeat(16), 'b'.repeat(16), 'gateway auth'), 200_000));
    store.onEnd(at(span(id(4), 'b'.repeat(16), 'a'.repeat(16), 'gateway'), 300_000));
    store.onEnd(at(span(id(4), 'a'.repeat(16), undefined, 'console'), 300_000));
    assert.deepEqual(
      store.get(id(4))!.spans.map((s) => s.name),
      ['console', 'gateway', 'gateway auth', 'gateway client', 'catalog'],
    );
  });

  test('bounded: past the limit the least recently ended trace goes first', () => {
    const store = recentTraces(3);
    for (let n = 1; n <= 3; n++) store.onEnd(span(id(n), 'a'.repeat(16)));
    store.onEnd(span(id(1), 'b'.repeat(16), 'a'.repeat(16))); // trace 1 gains a span: now the newest
    store.onEnd(span(id(4), 'a'.repeat(16)));
    assert.deepEqual(
      store.list().map((t) => t.trace_id),
      [id(4), id(1), id(3)],
    );
  });

  test('a trace keeps at most 256 spans and counts the rest', () => {
    const store = recentTraces(1);
    for (let n = 0; n < 300; n++) store.onEnd(span(id(1), n.toString(16).padStart(16, '0')));
    const trace = store.get(id(1))!;
    assert.equal(trace.spans.length, 256);
    assert.equal(trace.dropped_spans, 44);
  });
});

describe('when tracing is on', () => {
  test('off with nothing configured; exporting when an OTLP endpoint or exporter is named', () => {
    assert.deepEqual(telemetrySettings({}), { recentTraces: 0, exporting: false });
    assert.equal(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).exporting, true);
    assert.equal(
      telemetrySettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).exporting,
      true,
    );
    assert.equal(telemetrySettings({ OTEL_TRACES_EXPORTER: 'console' }).exporting, true);
    assert.equal(
      telemetrySettings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })
        .exporting,
      false,
    );
    assert.deepEqual(
      telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
      {
        recentTraces: 0,
        exporting: false,
      },
    );
  });

  test('the in-process store: a default (npm start) that PORTICO_RECENT_TRACES overrides; a bad value names the key', () => {
    assert.equal(telemetrySettings({}, { recentTraces: 200 }).recentTraces, 200);
    assert.equal(telemetrySettings({ PORTICO_RECENT_TRACES: '0' }, { recentTraces: 200 }).recentTraces, 0);
    assert.throws(
      () => telemetrySettings({ PORTICO_RECENT_TRACES: 'lots' }),
      /recentTraces.*PORTICO_RECENT_TRACES/,
    );
    assert.throws(() => telemetrySettings({ PORTICO_RECENT_TRACES: '-1' }), /PORTICO_RECENT_TRACES/);
  });
});
