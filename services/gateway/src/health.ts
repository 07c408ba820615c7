/**
 * The gateway's detailed health: its store's, and every upstream's instances, checked now.
 * Callers arriving within a second share one round of checks (and a reload starts a new
 * round, and so does a refused one), so a flood of /health requests is never a flood on the upstreams.
 */
import type { KvStore } from '@portico/store/kv';
import type { Runtime } from './runtime.ts';
import { describe } from './upstream/upstream.ts';

export interface HealthSource {
  kv: KvStore;
  /** The file's path, or '(inline)' for a definition given in code. */
  file: string;
  started: number;
  runtime(): Runtime;
  reloads(): { count: number; lastError: string | undefined };
}

export type HealthReport = Awaited<ReturnType<typeof checkHealth>>;

export function health(source: HealthSource): () => Promise<HealthReport> {
  let last:
    | { at: number; runtime: Runtime; error: string | undefined; report: Promise<HealthReport> }
    | undefined;
  return () => {
    const now = Date.now();
    const runtime = source.runtime();
    const error = source.reloads().lastError;
    if (!last || now - last.at > 1000 || last.runtime !== runtime || last.error !== error) {
      last = { at: now, runtime, error, report: checkHealth(source, runtime) };
    }
    return last.report;
  };
}

async function checkHealth(source: HealthSource, rt: Runtime) {
  const { kv } = source;
  const backend = kv.kind;
  const t0 = performance.now();
  let store: Record<string, unknown>;
  try {
    await kv.ping();
    store = { backend, status: 'healthy', response_time_ms: round(performance.now() - t0) };
  } catch (err) {
    store = {
      backend,
      status: 'unhealthy',
      response_time_ms: round(performance.now() - t0),
      error: describe(err),
      impact: 'rate limits fail open; responses are not cached',
    };
  }
  const services: Record<string, unknown> = {};
  await Promise.all(
    [...rt.upstreams.values()].map(async (upstream) => {
      const results = await upstream.check();
      const ok = results.filter((r) => r.ok).length;
      services[upstream.name] = {
        status: ok === results.length ? 'healthy' : ok === 0 ? 'unhealthy' : 'degraded',
        response_time_ms: Math.max(...results.map((r) => r.response_time_ms)),
        instances: upstream.instances.map((instance, i) => ({
          url: instance.url,
          status: results[i]!.ok ? 'healthy' : 'unhealthy',
          response_time_ms: results[i]!.response_time_ms,
          breaker: instance.breaker.state,
          ...(results[i]!.error ? { error: results[i]!.error } : {}),
          ...(results[i]!.status && !results[i]!.ok ? { http_status: results[i]!.status } : {}),
        })),
      };
    }),
  );
  const healthy =
    store.status === 'healthy' &&
    Object.values(services).every((s) => (s as { status: string }).status === 'healthy');
  const reloads = source.reloads();
  return {
    status: healthy ? 'healthy' : 'degraded',
    service: 'gateway',
    uptime_seconds: Math.round((Date.now() - source.started) / 1000),
    config: {
      file: source.file,
      loaded_at: rt.loadedAt.toISOString(),
      routes: rt.routes.length,
      reloads: reloads.count,
      ...(reloads.lastError ? { last_reload_error: reloads.lastError } : {}),
    },
    store,
    services,
    timestamp: new Date().toISOString(),
  };
}

function round(value: number) {
  return Math.round(value * 100) / 100;
}
