/**
 * What a scale-out run does to the deployment: steady traffic over every kind of replica,
 * kill -9 of one replica of each kind, and a rolling restart; then the acknowledged
 * writes are looked up again. The test asserts on these; `npm run scaleout` reports them.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiLogin, apiLogin, type ConsoleSession, consoleSignIn } from './clients.ts';
import { type Deployment, type Service, TOPOLOGY } from './deployment.ts';
import type { BackendStat } from './haproxy.ts';
import { type LoadReport, type Probe, steadyLoad } from './load.ts';

/** The services with more than one replica: losing one must not be noticed. */
export const REPLICATED = (Object.keys(TOPOLOGY) as Service[]).filter((s) => TOPOLOGY[s] > 1);

export interface Fixture {
  alice: ApiLogin;
  admin: ApiLogin;
  console: ConsoleSession;
  productId: string;
  categoryId: string;
  intentId: string;
}

export async function api(
  deployment: Deployment,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base = deployment.url('gateway'),
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: callers read the answers they expect
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
}

/** Logins, a product, and a payment intent for alice's order: what the probes read. */
export async function prepare(deployment: Deployment): Promise<Fixture> {
  const [alice, admin] = [await apiLogin(deployment, 'alice'), await apiLogin(deployment, 'admin')];
  const console = await consoleSignIn(deployment, 'alice', 'web-1');
  // The first read through a gateway that has just started may find no catalog yet: ask again a while.
  let products = await api(deployment, 'GET', '/api/v1/products?per_page=1');
  for (const deadline = Date.now() + 30_000; !products.body?.data?.[0] && Date.now() < deadline; ) {
    await sleep(500);
    products = await api(deployment, 'GET', '/api/v1/products?per_page=1');
  }
  if (!products.body?.data?.[0])
    throw new Error(`products: ${products.status} ${JSON.stringify(products.body)}`);
  const { id: productId, category_id: categoryId } = products.body.data[0];
  const added = await api(deployment, 'POST', '/api/v1/cart/items', alice.accessToken, {
    product_id: productId,
    quantity: 1,
  });
  if (added.status !== 201) throw new Error(`add to cart: ${added.status} ${JSON.stringify(added.body)}`);
  const order = await api(deployment, 'POST', '/api/v1/orders', alice.accessToken);
  if (order.status !== 201) throw new Error(`order: ${order.status} ${JSON.stringify(order.body)}`);
  const intent = await api(
    deployment,
    'POST',
    '/api/v1/payments',
    alice.accessToken,
    { order_id: order.body.data.id },
    { 'idempotency-key': randomUUID() },
  );
  if (intent.status !== 201) throw new Error(`payment: ${intent.status} ${JSON.stringify(intent.body)}`);
  return { alice, admin, console, productId, categoryId, intentId: intent.body.data.id };
}

/** Who sent a failed answer: the problem's `code` when a service did, else HAProxy's page or nothing. */
async function reason(res: Response): Promise<string | undefined> {
  const text = await res.text().catch(() => '');
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return /<html>/i.test(text) ? 'HAProxy' : undefined;
  }
}

/** Traffic over every replicated kind, through HAProxy as clients see it. */
export function probes(deployment: Deployment, fixture: Fixture): Probe[] {
  const gateway = deployment.url('gateway');
  const get = (url: string, token?: string) =>
    fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (res) => {
      if (res.status === 200) {
        await res.body?.cancel();
        return { ok: true, status: 200 };
      }
      return { ok: false, status: res.status, reason: await reason(res) };
    });
  let n = 0;
  return [
    {
      name: 'GET product list (gateway, catalog)',
      weight: 3,
      idempotent: true,
      send: () => get(`${gateway}/api/v1/products?per_page=5&page=${(n++ % 3) + 1}`),
    },
    {
      name: 'GET product (gateway, catalog)',
      weight: 2,
      idempotent: true,
      send: () => get(`${gateway}/api/v1/products/${fixture.productId}`),
    },
    {
      name: 'GET payment (gateway, payments)',
      weight: 1,
      idempotent: true,
      send: () => get(`${gateway}/api/v1/payments/${fixture.intentId}`, fixture.alice.accessToken),
    },
    {
      name: 'GET session (web)',
      weight: 1,
      idempotent: true,
      async send() {
        const res = await fixture.console.request('/api/session');
        const body = (await res.json().catch(() => ({}))) as { authenticated?: boolean };
        return { ok: res.status === 200 && body.authenticated === true, status: res.status };
      },
    },
    {
      name: 'GET discovery (identity)',
      weight: 1,
      idempotent: true,
      send: () => get(`${deployment.url('identity')}/.well-known/openid-configuration`),
    },
    {
      name: 'POST product (gateway, catalog)',
      weight: 2,
      idempotent: false,
      async send(signal) {
        const res = await fetch(`${gateway}/api/v1/products`, {
          method: 'POST',
          signal,
          headers: {
            authorization: `Bearer ${fixture.admin.accessToken}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            name: `Load ${randomUUID()}`,
            description: 'made under load',
            price: 1.5,
            category_id: fixture.categoryId,
          }),
        });
        if (res.status !== 201) return { ok: false, status: res.status, reason: await reason(res) };
        const body = (await res.json().catch(() => ({}))) as { data?: { id: string } };
        return { ok: true, status: 201, acknowledged: body.data?.id };
      },
    },
  ];
}

/** The acknowledged writes that cannot be read back: must be none. */
export async function lostWrites(deployment: Deployment, report: LoadReport): Promise<string[]> {
  const lost: string[] = [];
  for (const { id } of report.acknowledged) {
    const res = await fetch(`${deployment.url('catalog')}/api/v1/products/${id}`);
    await res.body?.cancel();
    if (res.status !== 200) lost.push(`${id} (${res.status})`);
  }
  return lost;
}

export interface FaultEvent {
  at: number;
  what: string;
}

export interface RunResult {
  load: LoadReport;
  lost: string[];
  events: FaultEvent[];
  /** What HAProxy retried (and sent to another replica) meanwhile, per service with any. */
  retried: Record<string, BackendStat>;
}

/** HAProxy's retries and redispatches while `work` ran, per backend that had any. */
async function retriesDuring<T>(
  deployment: Deployment,
  work: () => Promise<T>,
): Promise<[T, Record<string, BackendStat>]> {
  const before = await deployment.haproxy.backends();
  const result = await work();
  const retried: Record<string, BackendStat> = {};
  for (const [backend, after] of await deployment.haproxy.backends()) {
    const was = before.get(backend) ?? { retries: 0, redispatches: 0 };
    const delta = {
      retries: after.retries - was.retries,
      redispatches: after.redispatches - was.redispatches,
    };
    if (delta.retries || delta.redispatches) retried[backend] = delta;
  }
  return [result, retried];
}

/** kill -9 `<kind>-1` of each replicated kind in turn under load; each restarts as an orchestrator would. */
export async function killUnderLoad(
  deployment: Deployment,
  fixture: Fixture,
  options: { rate: number; durationMs: number },
): Promise<RunResult> {
  const t0 = Date.now();
  const events: FaultEvent[] = [];
  const note = (what: string) => events.push({ at: Date.now() - t0, what });
  const faults = (async () => {
    const gap = options.durationMs / (REPLICATED.length + 2);
    const restarts: Promise<void>[] = [];
    for (const [i, service] of REPLICATED.entries()) {
      await sleep(Math.max(0, t0 + gap * (i + 1) - Date.now()));
      const name = `${service}-1`;
      note(`kill -9 ${name}`);
      await deployment.stopReplica(name, 'SIGKILL');
      restarts.push(deployment.startReplica(name).then(() => void note(`${name} back`)));
    }
    await Promise.all(restarts);
  })();
  const [load, retried] = await retriesDuring(deployment, () =>
    steadyLoad({ rate: options.rate, durationMs: options.durationMs, probes: probes(deployment, fixture) }),
  );
  await faults;
  return { load, lost: await lostWrites(deployment, load), events, retried };
}

/**
 * A rolling restart: one replica at a time, service after service, as an orchestrator rolls
 * a new version out. For each: out of HAProxy's rotation, SIGTERM (it serves for
 * SHUTDOWN_DELAY_MS while /health says draining, then closes), wait for its exit, start it
 * again, wait until HAProxy has it UP; then the next. `drain` says how it leaves the rotation:
 * `haproxy` drains it through the runtime API and waits for its requests in flight before the
 * SIGTERM (a deploy tool that drives its load balancer); `health-check` only sends SIGTERM and
 * leaves it to HAProxy's checks to see /health draining (an orchestrator that knows nothing of
 * the load balancer, like `docker stop`). `replicas` picks which (1-based; default all).
 */
export async function rolloutUnderLoad(
  deployment: Deployment,
  fixture: Fixture,
  options: { rate: number; maxDurationMs: number; replicas?: number[]; drain?: 'haproxy' | 'health-check' },
): Promise<RunResult> {
  const t0 = Date.now();
  const events: FaultEvent[] = [];
  const note = (what: string) => events.push({ at: Date.now() - t0, what });
  const stop = new AbortController();
  const rollout = (async () => {
    await sleep(2000);
    for (const service of REPLICATED) {
      const all = Array.from({ length: TOPOLOGY[service] }, (_, i) => i + 1);
      for (const n of options.replicas ?? all) {
        const name = `${service}-${n}`;
        if ((options.drain ?? 'haproxy') === 'haproxy') {
          const ms = await deployment.drainReplica(name);
          note(`${name} drained (${ms} ms)`);
        }
        note(`SIGTERM ${name}`);
        const code = await deployment.stopReplica(name, 'SIGTERM');
        note(`${name} exited ${code}`);
        await deployment.startReplica(name);
        note(`${name} UP`);
      }
    }
    await sleep(2000);
  })().finally(() => stop.abort());
  const [load, retried] = await retriesDuring(deployment, () =>
    steadyLoad({
      rate: options.rate,
      durationMs: options.maxDurationMs,
      probes: probes(deployment, fixture),
      stop: stop.signal,
    }),
  );
  await rollout;
  return { load, lost: await lostWrites(deployment, load), events, retried };
}

/** One line per run: what failed, by probe, and when the faults happened. */
export function summary(result: RunResult): string {
  const { load } = result;
  const probes = Object.entries(load.probes)
    .map(
      ([name, p]) =>
        `${name}: ${p.failed}/${p.sent} failed${p.failed ? ` ${JSON.stringify(p.failures)}` : ''}`,
    )
    .join('; ');
  return (
    `${load.sent} requests in ${load.durationMs} ms, failed ${load.failedIdempotent} idempotent and ${load.failedWrites} writes, ` +
    `${load.acknowledged.length} writes acknowledged, ${result.lost.length} lost; p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms. ` +
    `${probes}. Client retries of idempotent requests on a broken connection: ${load.clientRetries}. HAProxy retried: ${JSON.stringify(result.retried)}. Events: ${result.events.map((e) => `${e.at} ms ${e.what}`).join(', ')}`
  );
}

/** After the faults: every replica is UP in HAProxy and each probe succeeds; returns what does not. */
export async function unhealed(deployment: Deployment, fixture: Fixture): Promise<string[]> {
  const status = await deployment.haproxy.status();
  const down = deployment.replicas
    .filter((r) => status.get(r.name) !== 'UP')
    .map((r) => `${r.name} ${status.get(r.name)}`);
  for (const probe of probes(deployment, fixture)) {
    const outcome = await probe
      .send(AbortSignal.timeout(10_000))
      .catch((err: Error) => ({ ok: false, status: err.name }));
    if (!outcome.ok) down.push(`${probe.name}: ${outcome.status}`);
  }
  return down;
}
