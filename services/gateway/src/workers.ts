/**
 * `workers`: N gateway processes serving one port, so the gateway uses every core.
 * - node:cluster: the primary holds the listening sockets and hands each new connection to a
 *   worker in turn (round robin); a worker is a whole gateway (`runService`), so the primary
 *   does no HTTP work and keep-alive connections never pass through it again;
 * - rate limits, the cache and failed-auth counts live in the store: with more than one
 *   worker it must be Redis (`redisUrl`), or each worker would enforce its own limit;
 * - a worker that dies after it served is started again (after a second, so a crash loop
 *   cannot spin); one that dies before it listened stops the gateway, as a single process would;
 *   SIGTERM/SIGINT drain every worker (run.ts's graceful shutdown) before the primary exits,
 *   SIGHUP reloads every worker's gateway file;
 * - the operator port is shared the same way: /metrics and /usage are one worker's view.
 */
import cluster, { type Worker } from 'node:cluster';
import { ConfigError } from '@portico/config';
import type { GatewayConfig } from './config.ts';

/** Refuses a worker count the store cannot back. */
export function checkWorkers(config: Pick<GatewayConfig, 'workers' | 'redisUrl'>): void {
  if (config.workers > 1 && !config.redisUrl) {
    throw new ConfigError('gateway', [
      `workers is ${config.workers}, which needs redisUrl (REDIS_URL): in-process rate limits and cache would hold per worker, not per gateway`,
    ]);
  }
}

/** Runs in the primary: forks `count` workers (which run main.ts as gateways) and supervises them. */
export function superviseWorkers(count: number): Promise<number> {
  let stopping = false;
  let code = 0;
  const live = new Set<Worker>();
  const log = (msg: string, extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, name: 'gateway', ...extra, msg }),
    );

  const start = () => {
    const worker = cluster.fork();
    live.add(worker);
    let listening = false;
    worker.once('listening', () => {
      listening = true;
    });
    worker.on('exit', (exitCode, signal) => {
      live.delete(worker);
      if (exitCode) code = Math.max(code, exitCode);
      if (!listening && !stopping) {
        // It never served (a bad gateway file, a port taken): another would fail the same way.
        code = Math.max(code, exitCode || 1);
        stop('SIGTERM');
        return;
      }
      if (stopping) {
        if (live.size === 0) finish(code);
        return;
      }
      log('worker exited: starting another', { worker: worker.process.pid, code: exitCode, signal });
      // Not unref'd: with every worker gone, this timer is what keeps the primary alive.
      setTimeout(() => {
        if (!stopping) start();
      }, 1000);
    });
  };

  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (live.size === 0) finish(code);
    for (const worker of live) worker.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const worker of live) worker.process.kill('SIGHUP');
  });
  for (let i = 0; i < count; i++) start();
  return done;
}
