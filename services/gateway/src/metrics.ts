/**
 * Prometheus metrics of the gateway, in the server's registry (so /metrics shows them
 * beside the process metrics), and per-consumer usage for analytics. Consumers are
 * unbounded in number, so usage is kept out of Prometheus labels and served as JSON.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface Usage {
  consumer: string;
  route: string;
  requests: number;
  errors: number;
  last_seen: string;
}

export function createMetrics(registry: Registry, maxConsumers = 10_000) {
  const registers = [registry];
  const duration = requestHistogram(registry);
  const gauge = <const L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge({ name, help, labelNames, registers });
  const cache = counter(
    registers,
    'gateway_cache_lookups_total',
    'Response cache lookups by route and result (hit, miss, bypass)',
    ['route', 'result'],
  );
  const limiter = counter(
    registers,
    'gateway_ratelimit_decisions_total',
    'Rate limiter decisions by route (allowed, rejected, failed_open when the store is down)',
    ['route', 'decision'],
  );
  const storeUp = gauge(
    'gateway_store_up',
    '1 while the rate-limit and cache store answers, 0 while it does not',
    ['backend'],
  );
  const storeErrors = counter(
    registers,
    'gateway_store_errors_total',
    'Store operations that failed (the gateway kept serving), by operation',
    ['backend', 'operation'],
  );
  const breaker = gauge(
    'gateway_upstream_breaker_state',
    'Circuit breaker per upstream instance: 0 closed, 1 half-open, 2 open',
    ['upstream', 'instance'],
  );
  const instanceUp = gauge(
    'gateway_upstream_instance_up',
    '1 while the active health check admits the instance',
    ['upstream', 'instance'],
  );
  const validation = counter(
    registers,
    'gateway_validation_total',
    'Edge validation by route, part (request, response) and result (passed, refused, drift, no_document, undocumented, skipped)',
    ['route', 'part', 'result'],
  );
  const reloads = counter(
    registers,
    'gateway_config_reloads_total',
    'Gateway file reloads by result (applied, refused)',
    ['result'],
  );
  type Row = Omit<Usage, 'last_seen'> & { seen: number };
  // consumer → route → row: looked up without building a key string per request.
  const usage = new Map<string, Map<string, Row>>();
  let rows = 0;

  return {
    request(
      route: string,
      method: string,
      status: number,
      upstream: string,
      seconds: number,
      consumer: string,
      traceId?: string,
    ) {
      duration.observe(route, method, status, upstream, seconds, traceId);
      let routes = usage.get(consumer);
      let row = routes?.get(route);
      if (!row) {
        if (rows >= maxConsumers) return;
        row = { consumer, route, requests: 0, errors: 0, seen: 0 };
        if (!routes) {
          routes = new Map();
          usage.set(consumer, routes);
        }
        routes.set(route, row);
        rows++;
      }
      row.requests++;
      if (status >= 400) row.errors++;
      row.seen = Date.now();
    },
    cache: (route: string, result: 'hit' | 'miss' | 'bypass') => cache(route, result),
    limiter: (route: string, decision: string) => limiter(route, decision),
    storeUp: (backend: string, up: boolean) => storeUp.labels(backend).set(up ? 1 : 0),
    storeError: (backend: string, operation: string) => storeErrors(backend, operation),
    breaker: (upstream: string, instance: string, state: string) =>
      breaker.labels(upstream, instance).set(state === 'closed' ? 0 : state === 'half-open' ? 1 : 2),
    instanceUp: (upstream: string, instance: string, up: boolean) =>
      instanceUp.labels(upstream, instance).set(up ? 1 : 0),
    validation: (route: string, part: string, result: string) => validation(route, part, result),
    reload: (result: 'applied' | 'refused') => reloads(result),
    usage: (): Usage[] =>
      [...usage.values()]
        .flatMap((routes) => [...routes.values()])
        .sort((a, b) => b.requests - a.requests)
        .map(({ seen, ...row }) => ({ ...row, last_seen: new Date(seen).toISOString() })),
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;

interface Tally {
  labels: Record<string, string>;
  /** Counted since prom-client last read it. */
  pending: number;
}

/**
 * A prom-client Counter for the request path: one increment walks one map per label, where
 * `labels(…).inc()` builds, validates and hashes a label object each time; prom-client gets
 * the counts when it is read (its `collect`), so /metrics shows the same series.
 */
function counter<const L extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: readonly L[],
): (...values: string[]) => void {
  const last = labelNames.length - 1;
  const root = new Map<string, unknown>();
  const tallies: Tally[] = [];
  new Counter({
    name,
    help,
    labelNames,
    registers,
    collect() {
      for (const tally of tallies) {
        if (tally.pending === 0) continue;
        this.inc(tally.labels as Partial<Record<L, string>>, tally.pending);
        tally.pending = 0;
      }
    },
  });
  return (...values) => {
    let node = root;
    for (let i = 0; i < last; i++) node = child(node as Map<string, Map<string, unknown>>, values[i]!);
    let tally = node.get(values[last]!) as Tally | undefined;
    if (!tally) {
      const labels: Record<string, string> = {};
      labelNames.forEach((label, i) => {
        labels[label] = values[i]!;
      });
      tally = { labels, pending: 0 };
      node.set(values[last]!, tally);
      tallies.push(tally);
    }
    tally.pending++;
  };
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  labels: Record<string, string>;
  counts: number[];
  sum: number;
  count: number;
  /** Per bucket (and +Inf), the latest sampled request's trace: made on the first one. */
  exemplars?: Array<Exemplar | undefined>;
}

interface Exemplar {
  labelSet: { trace_id: string };
  value: number;
  timestamp: number;
}

/**
 * `gateway_request_duration_seconds`, observed on every request. prom-client's Histogram
 * validates and hashes the label set on each observation (a few µs at tens of thousands of
 * requests a second); this keeps one series object per label set and does the bucketing
 * itself, and hands prom-client the usual `_bucket`/`_sum`/`_count` samples when scraped.
 * With tracing on, a bucket carries its latest sampled request's `trace_id` as an exemplar
 * (written in OpenMetrics only).
 */
function requestHistogram(registry: Registry) {
  const name = 'gateway_request_duration_seconds';
  const help = 'Time to answer a request through the gateway, by route, method, status and upstream';
  const series = new Map<string, Map<string, Map<number, Map<string, Series>>>>();
  const all: Series[] = [];
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    get: async () => {
      const values: Array<{
        metricName: string;
        labels: Record<string, string | number>;
        value: number;
        exemplar?: Exemplar;
      }> = [];
      for (const s of all) {
        let cumulative = 0;
        BUCKETS.forEach((le, i) => {
          cumulative += s.counts[i]!;
          const exemplar = s.exemplars?.[i];
          values.push({
            metricName: `${name}_bucket`,
            labels: { le, ...s.labels },
            value: cumulative,
            ...(exemplar ? { exemplar } : {}),
          });
        });
        const exemplar = s.exemplars?.[BUCKETS.length];
        values.push({
          metricName: `${name}_bucket`,
          labels: { le: '+Inf', ...s.labels },
          value: s.count,
          ...(exemplar ? { exemplar } : {}),
        });
        values.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
        values.push({ metricName: `${name}_count`, labels: s.labels, value: s.count });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset: () => {
      series.clear();
      all.length = 0;
    },
  } as never);
  return {
    observe(
      route: string,
      method: string,
      status: number,
      upstream: string,
      seconds: number,
      traceId: string | undefined,
    ) {
      // route → method → status → upstream: no key string to build and hash per request.
      const byMethod = child(series, route);
      const byStatus = child(byMethod, method);
      const byUpstream = child(byStatus, status);
      let s = byUpstream.get(upstream);
      if (!s) {
        s = {
          labels: { route, method, status: String(status), upstream },
          counts: BUCKETS.map(() => 0),
          sum: 0,
          count: 0,
        };
        byUpstream.set(upstream, s);
        all.push(s);
      }
      let i = 0;
      while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
      if (i < BUCKETS.length) s.counts[i]!++;
      s.sum += seconds;
      s.count++;
      if (traceId) {
        s.exemplars ??= [];
        s.exemplars[i] = { labelSet: { trace_id: traceId }, value: seconds, timestamp: Date.now() / 1000 };
      }
    },
  };
}

/** The map under `key` in `parent`, made on first use. */
function child<K, V extends Map<unknown, unknown>>(parent: Map<K, V>, key: K): V {
  let map = parent.get(key);
  if (!map) {
    map = new Map() as V;
    parent.set(key, map);
  }
  return map;
}
