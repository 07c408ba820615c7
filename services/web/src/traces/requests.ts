/**
 * The Requests page's rows, read from the in-process trace store (@portico/telemetry): one row
 * per kept trace with an HTTP server span in it; the earliest one is the request (a trace this
 * process started itself, with a call to one of its own services, shows that call's answer).
 * - method, path, status and duration are that span's: what the caller asked and was answered
 * - route is the innermost matched route that is not a catch-all: the answering service's
 *   `/api/v1/products/:id`, rather than the gateway's prefix or the console's `/api/*`
 * - user is the first `user.id` in the trace (set by the gateway and the console)
 */
import { type RecentTraces, SERVICE_ATTRIBUTE, type SpanView } from '@portico/telemetry';

export interface RequestRow {
  trace_id: string;
  start: string;
  method: string;
  path: string;
  route: string;
  status: number | null;
  user: string | null;
  duration_ms: number;
  spans: number;
  error: boolean;
}

export interface RequestFilter {
  /** `2xx`…`5xx`. */
  status?: string;
  /** A part of the route or the path. */
  route?: string;
  user?: string;
  min_ms?: number;
  limit: number;
}

/** `spans` in start order, as the store gives them. */
export function requestRow(traceId: string, spans: SpanView[]): RequestRow | undefined {
  const root = spans.find((s) => s.kind === 'server');
  if (!root) return undefined;
  const a = root.attributes;
  const method = String(a['http.request.method'] ?? a['http.method'] ?? root.name.split(' ')[0]);
  const path = String(a['url.path'] ?? a['http.target'] ?? '').split('?')[0]!;
  const routes = spans.filter((s) => s.kind === 'server' && typeof s.attributes['http.route'] === 'string');
  const named = routes.findLast((s) => !String(s.attributes['http.route']).includes('*')) ?? routes[0];
  const status = Number(a['http.response.status_code'] ?? a['http.status_code']);
  const user = spans.find((s) => typeof s.attributes['user.id'] === 'string')?.attributes['user.id'];
  return {
    trace_id: traceId,
    start: root.start,
    method,
    path,
    route: named ? String(named.attributes['http.route']) : path,
    status: Number.isInteger(status) ? status : null,
    user: typeof user === 'string' ? user : null,
    duration_ms: root.duration_ms,
    spans: spans.length,
    error: spans.some((s) => s.status === 'error'),
  };
}

/** Newest first, those the filter keeps, at most `filter.limit`. */
export function recentRequests(store: RecentTraces, filter: RequestFilter): RequestRow[] {
  const rows: RequestRow[] = [];
  const route = filter.route?.toLowerCase();
  for (const summary of store.list()) {
    const trace = store.get(summary.trace_id);
    if (!trace) continue;
    const row = requestRow(summary.trace_id, trace.spans);
    if (!row) continue;
    if (filter.status && (row.status === null || `${Math.floor(row.status / 100)}xx` !== filter.status))
      continue;
    if (route && !row.route.toLowerCase().includes(route) && !row.path.toLowerCase().includes(route))
      continue;
    if (filter.user && row.user !== filter.user) continue;
    if (filter.min_ms !== undefined && row.duration_ms < filter.min_ms) continue;
    rows.push(row);
    if (rows.length >= filter.limit) break;
  }
  return rows;
}

/**
 * The trace's spans, each with `service` the Portico service that served it: the
 * `portico.service` of the span or of its nearest server span above it, else the process's
 * `service.name`. In `npm start` every service shares that one name (`portico`), and the
 * waterfall could not tell the console, the gateway and the catalog apart.
 */
export function servedBy(spans: SpanView[]): SpanView[] {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const found = new Map<string, string | undefined>();
  const serviceOf = (span: SpanView, depth = 0): string | undefined => {
    if (found.has(span.span_id)) return found.get(span.span_id);
    const own = span.attributes[SERVICE_ATTRIBUTE];
    const parent = span.parent_span_id ? byId.get(span.parent_span_id) : undefined;
    const service =
      typeof own === 'string'
        ? own
        : parent && depth < spans.length
          ? serviceOf(parent, depth + 1)
          : undefined;
    found.set(span.span_id, service);
    return service;
  };
  return spans.map((span) => {
    const service = serviceOf(span);
    return service ? { ...span, service } : span;
  });
}
