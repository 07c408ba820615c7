/**
 * The embedded default's trace view without a collector: the last `limit` traces finished in
 * this process, kept in memory as their spans end, oldest dropped first. A trace keeps at most
 * `MAX_SPANS` spans (a streaming request can make thousands). Served as JSON on the operator
 * port (`/traces`), for the console's Requests page and for `curl`.
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

const MAX_SPANS = 256;
const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const;
const STATUS = ['unset', 'ok', 'error'] as const;

export interface SpanView {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  kind: (typeof KINDS)[number];
  service: string;
  start: string;
  duration_ms: number;
  status: (typeof STATUS)[number];
  status_message?: string;
  attributes: Record<string, unknown>;
}

export interface TraceSummary {
  trace_id: string;
  /** The span with no parent in this process, else the earliest one kept. */
  root: string;
  service: string;
  start: string;
  duration_ms: number;
  spans: number;
  services: string[];
  error: boolean;
}

interface Kept {
  spans: SpanView[];
  /** Each span's start in microseconds, by span id: `start` is ISO, to the millisecond only (siblings' order). */
  startUs: Map<string, number>;
  dropped: number;
}

export interface RecentTraces extends SpanProcessor {
  readonly limit: number;
  /** Newest first. */
  list(): TraceSummary[];
  /** The trace's spans, each after its parent and siblings in start order, or undefined when it is not (or no longer) kept. */
  get(traceId: string): { trace_id: string; spans: SpanView[]; dropped_spans: number } | undefined;
}

export function recentTraces(limit: number): RecentTraces {
  const traces = new Map<string, Kept>();

  return {
    limit,
    onStart(_span: Span, _context: Context) {},
    onEnd(span: ReadableSpan) {
      const context = span.spanContext();
      const id = context.traceId;
      let kept = traces.get(id);
      if (kept) {
        // Refreshed: a trace still gaining spans is not the oldest one.
        traces.delete(id);
      } else {
        kept = { spans: [], startUs: new Map(), dropped: 0 };
        if (traces.size >= limit) traces.delete(traces.keys().next().value!);
      }
      traces.set(id, kept);
      if (kept.spans.length >= MAX_SPANS) kept.dropped++;
      else {
        const [seconds, nanos] = span.startTime;
        kept.spans.push(view(span));
        kept.startUs.set(context.spanId, seconds * 1e6 + Math.floor(nanos / 1e3));
      }
    },
    forceFlush: () => Promise.resolve(),
    shutdown() {
      traces.clear();
      return Promise.resolve();
    },
    list() {
      return [...traces].reverse().map(([id, kept]) => summary(id, kept.spans));
    },
    get(traceId) {
      const kept = traces.get(traceId);
      if (!kept) return undefined;
      return { trace_id: traceId, spans: treeOrder(kept), dropped_spans: kept.dropped };
    },
  };
}

/**
 * Each span after its parent, siblings in start order. Start times alone do not give that: spans
 * are kept as they end (a child before its parent), and the SDK anchors each span's start to
 * `Date.now()`, to the millisecond, so a child can read as starting before its parent.
 */
function treeOrder(kept: Kept): SpanView[] {
  const at = (s: SpanView) => kept.startUs.get(s.span_id) ?? Date.parse(s.start) * 1e3;
  const byStart = [...kept.spans].sort((a, b) => at(a) - at(b));
  const ids = new Set(byStart.map((s) => s.span_id));
  const children = new Map<string, SpanView[]>();
  const roots: SpanView[] = [];
  for (const span of byStart) {
    const parent = span.parent_span_id;
    if (parent === undefined || !ids.has(parent)) roots.push(span);
    else {
      const siblings = children.get(parent);
      if (siblings) siblings.push(span);
      else children.set(parent, [span]);
    }
  }
  const out: SpanView[] = [];
  const visit = (span: SpanView) => {
    out.push(span);
    for (const child of children.get(span.span_id) ?? []) visit(child);
  };
  for (const root of roots) visit(root);
  return out;
}

function view(span: ReadableSpan): SpanView {
  const context = span.spanContext();
  const [seconds, nanos] = span.startTime;
  const [ds, dn] = span.duration;
  const parent = span.parentSpanContext?.spanId;
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    ...(parent ? { parent_span_id: parent } : {}),
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    service: String(span.resource.attributes['service.name'] ?? 'unknown'),
    start: new Date(seconds * 1000 + nanos / 1e6).toISOString(),
    duration_ms: Math.round((ds * 1e3 + dn / 1e6) * 1000) / 1000,
    status: STATUS[span.status.code] ?? 'unset',
    ...(span.status.message ? { status_message: span.status.message } : {}),
    attributes: { ...span.attributes },
  };
}

function summary(id: string, spans: SpanView[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.span_id));
  const roots = spans.filter((s) => !s.parent_span_id || !ids.has(s.parent_span_id));
  const root = roots.reduce((a, b) => (b.start < a.start ? b : a), roots[0] ?? spans[0]!);
  let end = 0;
  for (const s of spans) end = Math.max(end, Date.parse(s.start) + s.duration_ms);
  return {
    trace_id: id,
    root: root.name,
    service: root.service,
    start: root.start,
    duration_ms: Math.round((end - Date.parse(root.start)) * 1000) / 1000,
    spans: spans.length,
    services: [...new Set(spans.map((s) => s.service))],
    error: spans.some((s) => s.status === 'error'),
  };
}
