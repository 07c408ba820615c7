/**
 * An upstream service: its instances, each with a keep-alive connection pool, a breaker
 * (passive health), an active health check and a stall detector, chosen round robin among
 * those that may take a request now.
 *
 * Bulkhead: an instance carries at most `connections` requests at once (one per pooled
 * connection, so undici never queues one where its wait cannot be seen). Past that, requests
 * wait in this upstream's own queue, at most `queue` of them, each until its deadline; a full
 * queue is a fast 503. One upstream in trouble holds its own slots, never another's.
 *
 * Stall detection (outlier ejection): an instance that has requests outstanding and has sent
 * no response head for `breaker.stallAfter` is probed at once on a connection of its own; if
 * the probe does not pass within `stallAfter` either, the instance is ejected (its breaker
 * opens) and its idempotent requests are handed back to be retried on a peer. A frozen or
 * hung process is out within about two `stallAfter`, not after `failures` route timeouts; a
 * slow endpoint on a live process is not ejected, since its health check still answers, nor
 * is a process waiting on its database: its `/health` answers a 503 that names the dependency.
 * An ejected instance takes no request until a probe passes again (tried after `cooldown`).
 *
 * Silence and probe deadlines are counted in the gateway's running time (running.ts): a
 * watchdog tick or probe step that fires late credits only its own interval, so time the
 * gateway's event loop was blocked, or the machine starved it, is never an upstream's silence,
 * and answers that came meanwhile are read before anyone is judged. A starved gateway detects
 * a frozen instance later in wall time, never ejects a live one for it.
 *
 * Stall detection alone never ejects the last instance that could take requests, nor more than
 * half of an upstream's instances (at least one, for two or more): when many stall at once the
 * likelier cause is shared (the gateway, the machine, the network), and below half Envoy's
 * panic threshold would send to all of them anyway (its `max_ejection_percent` likewise always
 * allows the first ejection and bounds the rest). An instance found stalled past that bound is
 * kept in rotation and probed again after another `stallAfter` of silence; one that is really
 * dead is still caught by its breaker (`failures`) and each request's route timeout.
 */
import { DEPENDENCY_FAILURE_HEADER } from '@portico/http';
import { Pool } from 'undici';
import { ms } from '../schema.ts';
import { type Breaker, type BreakerState, createBreaker } from './breaker.ts';
import type { UpstreamDef } from './options.ts';
import { credit, runningDeadline, stepFor } from './running.ts';

/** One request in flight on an instance, as the stall detector sees it. */
export interface Attempt {
  started: number;
  /** Whether the request may be sent again elsewhere (idempotent). */
  retryable: boolean;
  /** Ends the attempt with `err`, whatever it is waiting for. */
  abort(err: Error): void;
}

export interface Instance {
  url: string;
  pool: Pool;
  /** A connection of its own for health checks, so they never wait behind requests. */
  probe: Pool;
  breaker: Breaker;
  /** Last active check says it answers. Starts true: an upstream that is down is found by its checks. */
  up: boolean;
  /** Requests in flight, at most `limit`. */
  inflight: Set<Attempt>;
  limit: number;
  /** When it last sent a response head (performance.now()). */
  lastAnswer: number;
}

export interface CheckResult {
  ok: boolean;
  /**
   * It answered, and not with a 502/503/504 of its own: a process that is not hung. A 503 that
   * names a dependency (its database is down) is alive, so stall detection keeps it in rotation.
   */
  alive: boolean;
  response_time_ms: number;
  status?: number;
  error?: string;
  at: string;
}

/** The instance stopped answering: its idempotent requests go to a peer. */
export class StalledError extends Error {
  code = 'PORTICO_INSTANCE_STALLED';
}

/** This upstream's queue is full: answered at once, nothing is sent. */
export class SaturatedError extends Error {
  code = 'PORTICO_UPSTREAM_SATURATED';
}

/** The request's deadline passed while it waited for a slot. */
export class QueueTimeoutError extends Error {
  code = 'PORTICO_QUEUE_TIMEOUT';
}

export interface Upstream {
  name: string;
  instances: Instance[];
  /**
   * The next instance that may take a request, or undefined when none may (all ejected or open).
   * `avoid` (the instance that just failed) is taken only when no other may. Takes no slot.
   */
  pick(avoid?: Instance): Instance | undefined;
  /**
   * An instance with a free slot: at once (no promise) when one has it, else waiting in this
   * upstream's queue until `deadline` (performance.now() time); undefined when no instance may take requests.
   * Rejects with SaturatedError when the queue is full, QueueTimeoutError at the deadline.
   * The caller adds its attempt to `instance.inflight` and calls `release` when it is done.
   */
  acquire(deadline: number, avoid?: Instance): Instance | Promise<Instance | undefined>;
  release(instance: Instance, attempt: Attempt): void;
  /** Runs every instance's health check now. */
  check(): Promise<CheckResult[]>;
  close(): Promise<void>;
}

/**
 * What stall detection made of a silent instance: `alive` (its probe passed: kept), `ejected`,
 * or `spared` (its probe failed too, but ejecting it would pass the bound: kept).
 */
export type StallVerdict = 'alive' | 'ejected' | 'spared';

export interface UpstreamHooks {
  onBreaker?: (upstream: string, instance: string, state: BreakerState) => void;
  onHealth?: (upstream: string, instance: string, up: boolean) => void;
  onStall?: (upstream: string, instance: string, verdict: StallVerdict) => void;
}

interface Waiter {
  deadline: number;
  avoid: Instance | undefined;
  resolve(instance: Instance | undefined): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export function createUpstream(name: string, def: UpstreamDef, hooks: UpstreamHooks = {}): Upstream {
  const cooldownMs = ms(def.breaker?.cooldown, 5000);
  const stallAfter = ms(def.breaker?.stallAfter, 1000);
  const check = {
    path: def.healthCheck?.path ?? '/health',
    timeout: ms(def.healthCheck?.timeout, 2000),
    interval: ms(def.healthCheck?.interval, 0),
    unhealthyAfter: def.healthCheck?.unhealthyAfter ?? 2,
    healthyAfter: def.healthCheck?.healthyAfter ?? 1,
  };
  const connections = def.connections ?? 128;
  const queueLimit = def.queue ?? connections * def.instances.length;
  const instances: Instance[] = def.instances.map((url) => ({
    url,
    pool: new Pool(url, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: 2000,
    }),
    probe: new Pool(url, { connections: 1, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 2000 }),
    breaker: createBreaker({
      failures: def.breaker?.failures ?? 5,
      cooldownMs,
      onChange: (state) => hooks.onBreaker?.(name, url, state),
    }),
    up: true,
    inflight: new Set(),
    limit: connections,
    lastAnswer: performance.now(),
  }));
  let next = 0;
  let passes = new Map<Instance, number>();
  let fails = new Map<Instance, number>();
  const queue: Waiter[] = [];
  let closed = false;

  async function probe(instance: Instance, timeout: number): Promise<CheckResult> {
    const t0 = performance.now();
    // Only this deadline ends the wait, body included: undici's own timeouts are on the wall clock.
    const deadline = runningDeadline(timeout);
    try {
      const response = await instance.probe.request({
        method: 'GET',
        path: check.path,
        signal: deadline.signal,
        headers: { 'user-agent': 'portico-gateway-health' },
      });
      await response.body.dump();
      return {
        ok: response.statusCode >= 200 && response.statusCode < 300,
        alive: !instanceFault(response.statusCode, response.headers),
        status: response.statusCode,
        response_time_ms: round(performance.now() - t0),
        at: new Date().toISOString(),
      };
    } catch (err) {
      return {
        ok: false,
        alive: false,
        response_time_ms: round(performance.now() - t0),
        error: describe(err),
        at: new Date().toISOString(),
      };
    } finally {
      deadline.clear();
    }
  }

  /**
   * Panic routing (Envoy's panic threshold at its floor): when active checks have taken every
   * instance out, all of them take requests again, each still behind its breaker. A check that
   * fails everywhere at once more often names a shared dependency (a database every instance
   * reports in /health) than dead processes, whose breakers open on their own; refusing every
   * request at the gateway would also refuse what the instances can still serve.
   */
  let upCount = instances.length;
  /** Being probed by stall detection, and ejected by it (out until a probe passes). */
  const suspected = new Set<Instance>();
  const ejected = new Set<Instance>();
  const eligible = (instance: Instance) => (instance.up || upCount === 0) && !ejected.has(instance);

  async function checkOne(instance: Instance): Promise<CheckResult> {
    const result = await probe(instance, check.timeout);
    const counter = result.ok ? passes : fails;
    (result.ok ? fails : passes).set(instance, 0);
    const n = (counter.get(instance) ?? 0) + 1;
    counter.set(instance, n);
    if (result.ok && !instance.up && n >= check.healthyAfter) {
      instance.up = true;
      upCount++;
      instance.breaker.reset();
      hooks.onHealth?.(name, instance.url, true);
      wake();
    } else if (!result.ok && instance.up && n >= check.unhealthyAfter && check.interval > 0) {
      // Without active checks nothing would check it again to re-admit it: a check run on demand
      // (the operator's /health) reports, it does not eject.
      instance.up = false;
      upCount--;
      hooks.onHealth?.(name, instance.url, false);
    } else if (result.ok && instance.breaker.state !== 'closed') {
      // An open breaker whose instance answers its health check again is re-admitted now.
      instance.breaker.reset();
      wake();
    }
    return result;
  }

  /** An instance that may take a request now and has a free slot (takes the half-open probe slot). */

  function free(avoid?: Instance): Instance | undefined {
    const n = instances.length;
    for (let i = 0; i < n; i++) {
      const instance = instances[(next + i) % n]!;
      if (instance === avoid || !eligible(instance) || instance.inflight.size >= instance.limit) continue;
      if (!instance.breaker.tryAcquire()) continue;
      next = (next + i + 1) % n;
      return instance;
    }
    if (avoid && eligible(avoid) && avoid.inflight.size < avoid.limit && avoid.breaker.tryAcquire())
      return avoid;
    return undefined;
  }

  /** Whether any instance may take requests at all (busy or not). */
  function anyAvailable(): boolean {
    return instances.some((instance) => eligible(instance) && instance.breaker.available());
  }

  function wake() {
    while (queue.length > 0) {
      const waiter = queue[0]!;
      if (!anyAvailable()) {
        queue.shift();
        clearTimeout(waiter.timer);
        waiter.resolve(undefined);
        continue;
      }
      const instance = free(waiter.avoid);
      if (!instance) return;
      queue.shift();
      clearTimeout(waiter.timer);
      waiter.resolve(instance);
    }
  }

  /** Whether stall detection may eject `instance`: within the bound, and never the last one. */
  function mayEject(instance: Instance): boolean {
    if (ejected.size >= Math.max(1, Math.floor(instances.length / 2))) return false;
    return instances.some((other) => other !== instance && eligible(other) && other.breaker.available());
  }

  async function suspect(instance: Instance) {
    suspected.add(instance);
    try {
      const result = await probe(instance, stallAfter);
      if (closed) return;
      if (result.alive || !mayEject(instance)) {
        hooks.onStall?.(name, instance.url, result.alive ? 'alive' : 'spared');
        return;
      }
      ejected.add(instance);
      instance.breaker.trip();
      hooks.onStall?.(name, instance.url, 'ejected');
      const err = new StalledError(
        `${instance.url} sent nothing for ${stallAfter} ms and failed its health probe`,
      );
      for (const attempt of [...instance.inflight]) if (attempt.retryable) attempt.abort(err);
    } finally {
      suspected.delete(instance);
    }
  }
  async function readmit(instance: Instance) {
    suspected.add(instance);
    try {
      const result = await probe(instance, stallAfter);
      if (closed) return;
      if (result.alive) {
        ejected.delete(instance);
        instance.lastAnswer = performance.now();
        instance.breaker.reset();
        wake();
      }
    } finally {
      suspected.delete(instance);
    }
  }
  // Each instance's silence with requests outstanding, in the gateway's running time: a tick
  // credits at most its own interval, and never more than the wall-clock silence since the later
  // of its last response head and its oldest outstanding request.
  const silence = new Map<Instance, number>();
  const tick = stepFor(stallAfter);
  let lastTick = performance.now();
  const watchdog =
    stallAfter > 0
      ? setInterval(() => {
          const now = performance.now();
          const step = credit(now - lastTick, tick);
          lastTick = now;
          for (const instance of instances) {
            if (suspected.has(instance)) continue;
            if (ejected.has(instance)) {
              if (instance.breaker.available()) void readmit(instance);
              continue;
            }
            if (instance.inflight.size === 0) {
              silence.delete(instance);
              continue;
            }
            let oldest = now;
            for (const attempt of instance.inflight) if (attempt.started < oldest) oldest = attempt.started;
            const since = Math.max(instance.lastAnswer, oldest);
            const silent = Math.min(now - since, (silence.get(instance) ?? 0) + step);
            if (silent < stallAfter) {
              silence.set(instance, silent);
              continue;
            }
            // Whatever the verdict, another stallAfter of silence before the next probe.
            silence.delete(instance);
            void suspect(instance);
          }
        }, tick)
      : undefined;
  watchdog?.unref();

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
        if (instance !== avoid && eligible(instance) && instance.breaker.tryAcquire()) {
          next = (next + i + 1) % n;
          return instance;
        }
      }
      if (avoid && eligible(avoid) && avoid.breaker.tryAcquire()) return avoid;
      return undefined;
    },
    acquire(deadline, avoid) {
      const instance = queue.length === 0 ? free(avoid) : undefined;
      if (instance) return instance;
      if (!anyAvailable()) return Promise.resolve(undefined);
      if (queue.length >= queueLimit) {
        return Promise.reject(
          new SaturatedError(`${name} is at capacity (${queueLimit} requests already waiting)`),
        );
      }
      return new Promise<Instance | undefined>((resolve, reject) => {
        const waiter: Waiter = {
          deadline,
          avoid,
          resolve,
          reject,
          timer: setTimeout(
            () => {
              const at = queue.indexOf(waiter);
              if (at !== -1) queue.splice(at, 1);
              reject(new QueueTimeoutError(`no ${name} connection was free before the deadline`));
            },
            Math.max(0, deadline - performance.now()),
          ),
        };
        queue.push(waiter);
      });
    },
    release(instance, attempt) {
      if (instance.inflight.delete(attempt)) wake();
    },
    check: () => Promise.all(instances.map(checkOne)),
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      if (watchdog) clearInterval(watchdog);
      passes = new Map();
      fails = new Map();
      for (const waiter of queue.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.resolve(undefined);
      }
      // close() lets requests in flight finish: a reload never cuts one off.
      await Promise.all(instances.flatMap((instance) => [instance.pool.close(), instance.probe.close()]));
    },
  };
}

/**
 * Whether an answer counts against the instance that sent it: a 502, 503 or 504 it produced
 * itself. One that says it reports a dependency's outage (`Portico-Dependency-Failure`) does
 * not: the instance answered, and the requests that do not need that dependency still work.
 */
export function instanceFault(status: number, headers: Record<string, unknown>): boolean {
  return (
    (status === 502 || status === 503 || status === 504) && headers[DEPENDENCY_FAILURE_HEADER] === undefined
  );
}

export function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code ?? e.message ?? String(err);
}

function round(value: number) {
  return Math.round(value * 100) / 100;
}
