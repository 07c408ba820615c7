import type { IncomingHttpHeaders } from 'node:http';
import { sampledTraceId, tracingOn } from '@portico/telemetry';
import type { FastifyInstance } from 'fastify';
import Negotiator from 'negotiator';
import { collectDefaultMetrics, Histogram, type OpenMetricsContentType, Registry } from 'prom-client';

/**
 * A registry per server (the all-in-one process runs several side by side), served on the
 * operator listener. With tracing on, the request-duration histogram carries the sampled trace
 * of a bucket's latest request as an exemplar (`trace_id`), shown when the scraper asks for
 * OpenMetrics; with tracing off, an observation does no trace work.
 */
export function registerMetrics(server: FastifyInstance, service: string): Registry {
  const registry = new Registry();
  const defaultLabels = { service };
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  const tracing = tracingOn();
  // Label names loosened: prom-client types an exemplar's labels as the metric's own.
  const duration = new Histogram<string>({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    // prom-client refuses exemplars on a classic registry at construction only; registered
    // below, the classic text leaves them out and openMetrics() shows them.
    enableExemplars: tracing,
    registers: [],
  });
  registry.registerMetric(duration);
  server.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    const value = reply.elapsedTime / 1000;
    if (tracing) {
      const traceId = sampledTraceId();
      duration.observe({ labels, value, exemplarLabels: traceId ? { trace_id: traceId } : {} });
    } else duration.observe(labels, value);
    done();
  });
  // On the operator listener only: the public port has no /metrics.
  server.operator.route('/metrics', async (_url, headers) =>
    wantsOpenMetrics(headers)
      ? { type: Registry.OPENMETRICS_CONTENT_TYPE, body: await openMetrics(registry, defaultLabels) }
      : { type: registry.contentType, body: await registry.metrics() },
  );
  return registry;
}

/**
 * Whether the scraper prefers OpenMetrics to the classic text (Prometheus asks for
 * `application/openmetrics-text` first). Parameters (`version`, `escaping`) are not compared.
 */
export function wantsOpenMetrics(headers: IncomingHttpHeaders): boolean {
  const types = new Negotiator({ headers }).mediaTypes();
  const first = types.find((type) => type === 'application/openmetrics-text' || type === 'text/plain');
  return first === 'application/openmetrics-text';
}

/**
 * The registry's metrics as OpenMetrics text. prom-client writes one format per registry and,
 * when writing OpenMetrics, renames the counters it holds (drops `_total`, which the format
 * adds back), which would leave the classic text without it: this writes through a registry
 * of its own holding views of the metrics, so the counters themselves keep their names.
 */
async function openMetrics(registry: Registry, defaultLabels: Record<string, string>): Promise<string> {
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  view.setDefaultLabels(defaultLabels);
  for (const metric of registry.getMetricsAsArray() as unknown as Readable[]) {
    const name = metric.type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name;
    view.registerMetric({
      name,
      type: metric.type,
      get: async () => ({ ...(await (metric.getForPromString?.() ?? metric.get())), name }),
      reset: () => {},
    } as never);
  }
  return view.metrics();
}

interface Readable {
  name: string;
  type: string;
  get: () => Promise<Record<string, unknown>>;
  getForPromString?: () => Promise<Record<string, unknown>>;
}
