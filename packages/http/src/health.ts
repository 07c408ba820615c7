import type { FastifyInstance } from 'fastify';

export interface CheckResult {
  status: 'healthy' | 'unhealthy';
  response_time_ms: number;
  error?: string;
}

export type HealthCheck = () => Promise<unknown>;

/** `/health`: 200 while every check passes, 503 with the failing check named otherwise. */
export function registerHealth(
  server: FastifyInstance,
  service: string,
  checks: Record<string, HealthCheck>,
) {
  const started = Date.now();
  server.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    const results: Record<string, CheckResult> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        const t0 = performance.now();
        try {
          await check();
          results[name] = { status: 'healthy', response_time_ms: round(performance.now() - t0) };
        } catch (err) {
          results[name] = {
            status: 'unhealthy',
            response_time_ms: round(performance.now() - t0),
            error: (err as Error).message,
          };
        }
      }),
    );
    const healthy = Object.values(results).every((r) => r.status === 'healthy');
    reply.code(healthy ? 200 : 503).header('cache-control', 'no-store');
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      service,
      uptime_seconds: Math.round((Date.now() - started) / 1000),
      checks: results,
      timestamp: new Date().toISOString(),
    };
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
