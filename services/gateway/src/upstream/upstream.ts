/**
 * An upstream service: its instances, each with a keep-alive connection pool, a
 * breaker (passive health) and an active health check, chosen round robin among
 * those that may take a request now.
 */
import { Pool } from 'undici';
import { ms, type UpstreamDef } from '../config.ts';
import { type Breaker, type BreakerState, createBreaker } from './breaker.ts';

export interface Instance {
  url: string;
  pool: Pool;
  breaker: Breaker;
  /** Last active check says it answers. Starts true: an upstream that is down is found by its checks. */
  up: boolean;
  lastCheck: CheckResult | undefined;
}

export interface CheckResult {
  ok: boolean;
  response_time_ms: number;
  status?: number;
  error?: string;
  at: string;
}

export interface Upstream {
  name: string;
  instances: Instance[];
  /**
   * The next instance that may take a request, or undefined when none may (all ejected or open).
   * `avoid` (the instance that just failed) is taken only when no other may.
   */
  pick(avoid?: Instance): Instance | undefined;
  /** Runs every instance's health check now. */
  check(): Promise<CheckResult[]>;
  close(): Promise<void>;
}

export interface UpstreamHooks {
  onBreaker?: (upstream: string, instance: string, state: BreakerState) => void;
  onHealth?: (upstream: string, instance: string, up: boolean) => void;
}

export function createUpstream(name: string, def: UpstreamDef, hooks: UpstreamHooks = {}): Upstream {
  const cooldownMs = ms(def.breaker?.cooldown, 5000);
  const check = {
    path: def.healthCheck?.path ?? '/health',
    timeout: ms(def.healthCheck?.timeout, 2000),
    interval: ms(def.healthCheck?.interval, 0),
    unhealthyAfter: def.healthCheck?.unhealthyAfter ?? 2,
    healthyAfter: def.healthCheck?.healthyAfter ?? 1,
  };
  const instances: Instance[] = def.instances.map((url) => ({
    url,
    pool: new Pool(url, {
      connections: def.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: 2000,
    }),
    breaker: createBreaker({
      failures: def.breaker?.failures ?? 5,
      cooldownMs,
      onChange: (state) => hooks.onBreaker?.(name, url, state),
    }),
    up: true,
    lastCheck: undefined,
  }));
  let next = 0;
  let passes = new Map<Instance, number>();
  let fails = new Map<Instance, number>();

  async function checkOne(instance: Instance): Promise<CheckResult> {
    const t0 = performance.now();
    let result: CheckResult;
    try {
      const response = await instance.pool.request({
        method: 'GET',
        path: check.path,
        headersTimeout: check.timeout,
        bodyTimeout: check.timeout,
        headers: { 'user-agent': 'portico-gateway-health' },
      });
      await response.body.dump();
      result = {
        ok: response.statusCode >= 200 && response.statusCode < 300,
        status: response.statusCode,
        response_time_ms: round(performance.now() - t0),
        at: new Date().toISOString(),
      };
    } catch (err) {
      result = {
        ok: false,
        response_time_ms: round(performance.now() - t0),
        error: describe(err),
        at: new Date().toISOString(),
      };
    }
    instance.lastCheck = result;
    const counter = result.ok ? passes : fails;
    (result.ok ? fails : passes).set(instance, 0);
    const n = (counter.get(instance) ?? 0) + 1;
    counter.set(instance, n);
    if (result.ok && !instance.up && n >= check.healthyAfter) {
      instance.up = true;
      instance.breaker.reset();
      hooks.onHealth?.(name, instance.url, true);
    } else if (!result.ok && instance.up && n >= check.unhealthyAfter) {
      instance.up = false;
      hooks.onHealth?.(name, instance.url, false);
    } else if (result.ok && instance.breaker.state === 'open') {
      // An open breaker whose instance answers its health check again is re-admitted now.
      instance.breaker.reset();
    }
    return result;
  }

  const interval = check.interval;
  const timer =
    interval > 0
      ? setInterval(() => {
          for (const instance of instances) void checkOne(instance);
        }, interval)
      : undefined;
  timer?.unref();

  return {
    name,
    instances,
    pick(avoid) {
      const n = instances.length;
      for (let i = 0; i < n; i++) {
        const instance = instances[(next + i) % n]!;
        if (instance !== avoid && instance.up && instance.breaker.tryAcquire()) {
          next = (next + i + 1) % n;
          return instance;
        }
      }
      if (avoid?.up && avoid.breaker.tryAcquire()) return avoid;
      return undefined;
    },
    check: () => Promise.all(instances.map(checkOne)),
    async close() {
      if (timer) clearInterval(timer);
      passes = new Map();
      fails = new Map();
      // close() lets requests in flight finish: a reload never cuts one off.
      await Promise.all(instances.map((instance) => instance.pool.close()));
    },
  };
}

export function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code ?? e.message ?? String(err);
}

function round(value: number) {
  return Math.round(value * 100) / 100;
}
