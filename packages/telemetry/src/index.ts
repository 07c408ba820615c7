/**
 * Tracing for every Portico process. Each main calls `startTelemetry` before it imports anything
 * else: the instrumentations patch fastify, pg, ioredis, graphql and pino as they load.
 * With nothing configured this reads the environment and returns: no SDK is loaded.
 */
import { propagation, TraceFlags, trace } from '@opentelemetry/api';
import { type RecentTraces, recentTraces } from './recent.ts';
import { telemetrySettings } from './settings.ts';

export type { RecentTraces, SpanView, TraceSummary } from './recent.ts';
export { TelemetrySchema, telemetrySettings } from './settings.ts';

let recent: RecentTraces | undefined;
let shutdown: (() => Promise<void>) | undefined;

/**
 * Starts tracing when it is configured (settings.ts). `serviceName` names the process's spans
 * unless OTEL_SERVICE_NAME does; `defaults.recentTraces` is the in-process store's size when
 * PORTICO_RECENT_TRACES is not set (`npm start` keeps some).
 */
export async function startTelemetry(
  serviceName: string,
  defaults: { recentTraces?: number } = {},
): Promise<{ tracing: boolean }> {
  if (shutdown) return { tracing: true };
  const settings = telemetrySettings(process.env, defaults);
  if (!settings.exporting && settings.recentTraces === 0) return { tracing: false };
  if (!settings.exporting) recent = recentTraces(settings.recentTraces);
  const { startSdk } = await import('./sdk.ts');
  const sdk = startSdk({ serviceName, recent });
  shutdown = () => sdk.shutdown();
  // Spans still in the exporter's batch go out before the process exits.
  process.once('beforeExit', () => void shutdown?.());
  return { tracing: true };
}

/** Flushes and stops the SDK (a service's shutdown calls it after its server closed). */
export async function stopTelemetry(): Promise<void> {
  const stop = shutdown;
  shutdown = undefined;
  await stop?.();
}

/** The in-process trace store, when this process keeps one. */
export function recentTraceStore(): RecentTraces | undefined {
  return recent;
}

/** Whether this process traces: a hot path decides once, at start, whether to do trace work. */
export function tracingOn(): boolean {
  return shutdown !== undefined;
}

/**
 * The trace the code running now belongs to, when it is sampled (kept or exported): a metric's
 * exemplar points only at traces that can be looked up.
 */
export function sampledTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context && context.traceFlags & TraceFlags.SAMPLED ? context.traceId : undefined;
}

/** The trace the code running now belongs to, when tracing is on. */
export function activeTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}

/**
 * The active span as a W3C `traceresponse` value (`00-<trace id>-<span id>-<flags>`), for an
 * answer to tell its caller which trace it was; undefined when tracing is off.
 */
export function activeTraceResponse(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context) return undefined;
  return `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`;
}

/**
 * The trace id for a request's log line: the active span's when tracing is on, else the one
 * the request's `traceparent` carries — the gateway starts one for every request it forwards,
 * so logs of one request correlate across services even with tracing off.
 */
export function logTraceId(traceparent: string | string[] | undefined): string | undefined {
  const active = activeTraceId();
  if (active) return active;
  if (typeof traceparent !== 'string' || traceparent.length < 55) return undefined;
  const id = traceparent.slice(3, 35);
  return /^[0-9a-f]{32}$/.test(id) && traceparent[2] === '-' && traceparent[35] === '-' ? id : undefined;
}

/**
 * Whether a trace-context propagator is registered (tracing on): the HTTP and undici
 * instrumentations then read and write `traceparent` themselves, with this process's spans
 * as parents, and a hand-made proxy must leave it to them.
 */
export function propagating(): boolean {
  return propagation.fields().length > 0;
}

/**
 * Puts who is asking on the active span (`user.id`, the token's subject), so a trace can be
 * found by user (the console's Requests page) without reading the logs.
 */
export function noteUser(id: string): void {
  trace.getActiveSpan()?.setAttribute('user.id', id);
}

/**
 * Names the active server span after the route that matched (`GET /api/v1/products`), for a
 * server that routes on its own rather than through Fastify (the gateway's hot path).
 */
export function nameServerSpan(method: string, route: string, service: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
  span.setAttribute(SERVICE_ATTRIBUTE, service);
}

/**
 * Names the service that serves the request on the active span (`portico.service`), called
 * where the HTTP server span is the active one: in `npm start` every service shares one
 * process and so one `service.name`.
 */
export function noteService(service: string): void {
  trace.getActiveSpan()?.setAttribute(SERVICE_ATTRIBUTE, service);
}

export const SERVICE_ATTRIBUTE = 'portico.service';
