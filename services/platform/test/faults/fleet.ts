/**
 * Two catalog processes behind one gateway process, each catalog on a port of its own that
 * survives its restarts, and steady GET load through the gateway: the set-up of the instance
 * fault tests (freeze, kill, rolling restart).
 */
import { load } from '@portico/http/testing';
import { freePort, type Proc, scratch, startService } from './procs.ts';
import { logged } from './traffic.ts';

export const TIMEOUT_MS = 3000;

export interface FleetOptions {
  /** The gateway's active health check for the catalog upstream, if any. */
  healthCheck?: { interval: string; unhealthyAfter: number; healthyAfter: number };
  /** More environment for every catalog process. */
  catalogEnv?: Record<string, string>;
}

export async function catalogFleet(options: FleetOptions = {}) {
  const dir = await scratch();
  const ports = [await freePort(), await freePort()];
  const file = await dir.file('gateway.json', {
    upstreams: {
      catalog: {
        instances: ports.map((port) => `http://127.0.0.1:${port}`),
        ...(options.healthCheck ? { healthCheck: options.healthCheck } : {}),
        breaker: { failures: 5, cooldown: '1s', stallAfter: '500ms' },
      },
    },
    routes: [
      {
        name: 'products',
        path: '/api/v1/products',
        upstream: 'catalog',
        timeout: TIMEOUT_MS,
        retries: 1,
        auth: { default: 'public' },
      },
    ],
  });
  /** Starts (or starts again, on the same port and database) catalog `i`. */
  const startCatalog = (i: number) =>
    startService(
      'catalog',
      { DATABASE_URL: `sqlite:${dir.dir}/catalog-${i}.db`, ...options.catalogEnv },
      { port: ports[i], name: `catalog-${i}` },
    );
  const [first, second, gateway] = await Promise.all([
    startCatalog(0),
    startCatalog(1),
    startService('gateway', { GATEWAY_FILE: file, GATEWAY_WATCH: 'false' }),
  ]);
  const catalogs: Proc[] = [first, second];
  return {
    catalogs,
    gateway,
    startCatalog,
    /** `workers` loops of GETs through the gateway. */
    load: (workers: number) => load(`${gateway.url}/api/v1/products?limit=2`, workers),
    /** When the gateway logged `message` about `instance`, after `since`. */
    logged: (message: string, instance: string, since: number) => logged(gateway, message, instance, since),
    remove: () => dir.remove(),
  };
}
