import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { DEPENDENCY_FAILURE_HEADER } from './dependency.ts';

export interface CheckResult {
  status: 'healthy' | 'unhealthy';
  response_time_ms: number;
  error?: string;
}

export type HealthCheck = () => Promise<unknown>;

/**
 * `/health` on the public port says one word: `{"status":"up"}` (200) while every check
 * passes, `{"status":"degraded"}` (503) otherwise. Which check failed, why, how long each
 * took and the uptime are on the operator listener's `/health`.
 *
 * Each check gets `timeoutMs`: a database that stops answering makes `/health` say so within
 * that bound, not hang with it. A degraded answer names the failed checks in
 * `Portico-Dependency-Failure`: the process itself answered, so the gateway's stall probe
 * keeps it in rotation for what does not need that dependency (a draining 503 has no marker).
 */
export function registerHealth(
  server: FastifyInstance,
  service: string,
  checks: Record<string, HealthCheck>,
  metrics: Registry,
  timeoutMs = 500,
) {
  const started = Date.now();
  async function detail() {
    const results: Record<string, CheckResult> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        const t0 = performance.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          results[name] = { status: 'healthy', response_time_ms: round(performance.now() - t0) };
        } catch (err) {
          results[name] = {
            status: 'unhealthy',
            response_time_ms: round(performance.now() - t0),
            error: (err as Error).message,
          };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const healthy = Object.values(results).every((r) => r.status === 'healthy');
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      service,
      uptime_seconds: Math.round((Date.now() - started) / 1000),
      checks: results,
      timestamp: new Date().toISOString(),
    };
  }
  server.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    const { status, checks: results } = await detail();
    const up = status === 'healthy';
    reply.code(up ? 200 : 503).header('cache-control', 'no-store');
    if (!up) {
      const failed = Object.keys(results).filter((name) => results[name]!.status === 'unhealthy');
      reply.header(DEPENDENCY_FAILURE_HEADER, failed.join(', '));
    }
    return { status: up ? 'up' : 'degraded' };
  });
  // Checked when scraped, so a database that stops answering shows within one scrape interval
  // (the store-down alert in deploy/observability reads this), not only when someone asks /health.
  new Gauge({
    name: 'health_check_up',
    help: '1 while the named dependency check passes, 0 while it fails (run at each scrape)',
    labelNames: ['check'] as const,
    registers: [metrics],
    async collect() {
      const { checks: results } = await detail();
      for (const [name, result] of Object.entries(results)) {
        this.labels(name).set(result.status === 'healthy' ? 1 : 0);
      }
    },
  });
  server.operator.route('/health', async () => {
    const body = await detail();
    return {
      status: body.status === 'healthy' ? 200 : 503,
      type: 'application/json; charset=utf-8',
      body: JSON.stringify(body),
    };
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
