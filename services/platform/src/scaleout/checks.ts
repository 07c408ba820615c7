/**
 * What one replica does that the other must see, measured: the shared rate limit, the
 * shared response cache, and GraphQL subscriptions fed across catalogs. The scale-out test
 * asserts on these figures; `npm run scaleout` reports them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Deployment, LIMITED_ROUTE } from './deployment.ts';
import { api, type Fixture } from './scenarios.ts';

export interface RateLimitCheck {
  limit: number;
  sent: number;
  /** Answers in order, alternating gateway-1 and gateway-2. */
  statuses: number[];
  allowed: number;
  limited: number;
}

/** `limit + 10` requests to the limited route, alternating between the two gateways' own ports. */
export async function rateLimitAcrossGateways(deployment: Deployment): Promise<RateLimitCheck> {
  const statuses: number[] = [];
  const sent = LIMITED_ROUTE.limit + 10;
  for (let i = 0; i < sent; i++) {
    const gateway = deployment.replicaUrl(i % 2 ? 'gateway-2' : 'gateway-1');
    const res = await fetch(`${gateway}${LIMITED_ROUTE.path}`);
    await res.body?.cancel();
    statuses.push(res.status);
  }
  return {
    limit: LIMITED_ROUTE.limit,
    sent,
    statuses,
    allowed: statuses.filter((s) => s === 200).length,
    limited: statuses.filter((s) => s === 429).length,
  };
}

/** A merge patch of the product at `url` to `price`, as the fixture's admin; the answer's body dropped. */
/** A price from 1.00 to 101.00 made from whole cents: `k / 100 + 1` is 1.1400000000000001 for some k, which the catalog refuses. */
function randomPrice(): number {
  return (100 + Math.floor(Math.random() * 10_001)) / 100;
}

async function patchPrice(url: string, fixture: Fixture, price: number): Promise<Response> {
  const patched = await fetch(url, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${fixture.admin.accessToken}`,
      'content-type': 'application/merge-patch+json',
    },
    body: JSON.stringify({ price }),
  });
  await patched.body?.cancel();
  return patched;
}

export interface CachePurgeCheck {
  /** X-Cache of gateway-2's read after gateway-1 read the product. */
  otherGatewayCache: string | null;
  patchStatus: number;
  /** X-Cache and price of gateway-1's read after the write through gateway-2. */
  afterWriteCache: string | null;
  price: number;
  priceRead: number;
  /** From the write's answer to gateway-1's fresh read. */
  ms: number;
}

/** A product read through gateway-1 (cached), through gateway-2 (a hit?), written through gateway-2, read through gateway-1. */
export async function cachePurgeAcrossGateways(
  deployment: Deployment,
  fixture: Fixture,
): Promise<CachePurgeCheck> {
  const path = `/api/v1/products/${fixture.productId}`;
  const read = (replica: string) =>
    api(deployment, 'GET', path, undefined, undefined, {}, deployment.replicaUrl(replica));
  await read('gateway-1');
  const cached = await read('gateway-2');
  const price = randomPrice();
  const patched = await patchPrice(`${deployment.replicaUrl('gateway-2')}${path}`, fixture, price);
  const t0 = performance.now();
  const fresh = await read('gateway-1');
  return {
    otherGatewayCache: cached.headers.get('x-cache'),
    patchStatus: patched.status,
    afterWriteCache: fresh.headers.get('x-cache'),
    price,
    priceRead: fresh.body?.data?.price,
    ms: Math.round(performance.now() - t0),
  };
}

export interface SubscriptionCheck {
  /** The event catalog-2's subscriber got, if any. */
  event: { id: string; price: number } | undefined;
  price: number;
  /** Writes made on catalog-1 until an event arrived (the first may precede the subscription). */
  writes: number;
  /** From the write whose event arrived to the event. */
  ms: number;
}

/** A `productUpdated` subscription on catalog-2's own port, and product updates on catalog-1's. */
export async function subscriptionAcrossCatalogs(
  deployment: Deployment,
  fixture: Fixture,
): Promise<SubscriptionCheck> {
  const controller = new AbortController();
  const res = await fetch(`${deployment.replicaUrl('catalog-2')}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      query: 'subscription($id: ID) { productUpdated(id: $id) { id price } }',
      variables: { id: fixture.productId },
    }),
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`catalog-2 /graphql answered ${res.status}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const price = randomPrice();
  let buffer = '';
  let writes = 0;
  let wrote = 0;
  let event: SubscriptionCheck['event'];
  let ms = 0;
  // The subscription is registered once the stream is open; write again until its event arrives.
  const deadline = Date.now() + 15_000;
  let next = reader.read();
  try {
    while (!event && Date.now() < deadline) {
      const patched = await patchPrice(
        `${deployment.replicaUrl('catalog-1')}/api/v1/products/${fixture.productId}`,
        fixture,
        price,
      );
      if (patched.status !== 200) throw new Error(`catalog-1 PATCH answered ${patched.status}`);
      writes++;
      wrote = performance.now();
      for (const until = Date.now() + 1000; !event && Date.now() < until; ) {
        const chunk = await Promise.race([next, sleep(Math.max(0, until - Date.now()), undefined)]);
        if (!chunk) break;
        if (chunk.done) throw new Error('catalog-2 closed the event stream');
        next = reader.read();
        buffer += chunk.value;
        const data = /^data: (.*)$/m.exec(
          buffer.split('\n\n').find((b) => /^event: next$/m.test(b)) ?? '',
        )?.[1];
        if (data) {
          event = JSON.parse(data).data.productUpdated;
          ms = Math.round(performance.now() - wrote);
        }
      }
    }
  } finally {
    controller.abort();
    await next.catch(() => {});
  }
  return { event, price, writes, ms };
}
