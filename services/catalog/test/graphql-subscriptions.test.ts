/**
 * `productUpdated` over graphql-ws and over SSE, fed by pub/sub: a REST write and a GraphQL
 * mutation both reach subscribers; with Redis, a write on one catalog instance reaches
 * subscribers on another, once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_SCOPES, createTestIssuer, type TestIssuer, USER_SCOPES } from '@portico/auth/testing';
import { loadConfig } from '@portico/config';
import { redisTestUrl } from '@portico/store/testing';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { build, type CatalogServer, ConfigSchema } from '../src/build.ts';
import { PRODUCT_CHANNEL } from '../src/graphql/index.ts';

const SUBSCRIPTION = 'subscription($id: ID) { productUpdated(id: $id) { id name price formattedPrice } }';

interface Instance {
  server: CatalogServer & { pubsub: { listenerCount(channel: string): number } };
  http: string;
  ws: string;
}

async function startInstance(issuer: TestIssuer, databaseUrl: string, redisUrl = '', keyPrefix = 'portico:') {
  const config = loadConfig('catalog', ConfigSchema, {
    env: {},
    overrides: { databaseUrl, logLevel: 'silent', pubsub: { redisUrl, keyPrefix } },
  });
  const server = (await build(config, { verifier: issuer.verifier })) as Instance['server'];
  const http = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, http, ws: `${http.replace('http', 'ws')}/graphql` };
}

/** Resolves when `condition` holds: polls a cheap in-process counter, with a deadline. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function wsSubscribe(url: string, variables: object) {
  const client = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
  const events = client.iterate<{ productUpdated: { id: string; name: string; price: number } }>({
    query: SUBSCRIPTION,
    variables: variables as Record<string, unknown>,
  });
  return {
    async next() {
      const { value, done } = await events.next();
      assert.equal(done, false);
      assert.equal(value!.errors, undefined, JSON.stringify(value!.errors));
      return value!.data!.productUpdated;
    },
    async close() {
      await events.return?.();
      await client.dispose();
    },
  };
}

async function sseSubscribe(http: string, variables: object) {
  const controller = new AbortController();
  const res = await fetch(`${http}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: SUBSCRIPTION, variables }),
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!/^event: next$/m.test(block)) continue;
          const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!);
          assert.equal(data.errors, undefined);
          return data.data.productUpdated as { id: string; name: string; price: number };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        buffer += value;
      }
    },
    close: () => controller.abort(),
  };
}

async function firstProducts(instance: Instance): Promise<string[]> {
  const res = await instance.server.inject({ url: '/api/v1/products?per_page=2' });
  return res.json().data.map((p: { id: string }) => p.id);
}

function restPatch(instance: Instance, id: string, body: object, authorization: Record<string, string>) {
  return instance.server.inject({
    method: 'PATCH',
    url: `/api/v1/products/${id}`,
    headers: { ...authorization, 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify(body),
  });
}

async function gqlUpdate(
  instance: Instance,
  id: string,
  price: number,
  authorization: Record<string, string>,
) {
  const res = await fetch(`${instance.http}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authorization },
    body: JSON.stringify({
      query: 'mutation($id: ID!, $p: Float!) { updateProduct(id: $id, input: { price: $p }) { success } }',
      variables: { id, p: price },
    }),
  });
  assert.deepEqual(await res.json(), { data: { updateProduct: { success: true } } });
}

describe('productUpdated, in process (embedded default)', () => {
  let issuer: TestIssuer;
  let a: Instance;
  let admin: Record<string, string>;
  before(async () => {
    issuer = await createTestIssuer();
    admin = {
      authorization: `Bearer ${await issuer.sign({ sub: 'admin', roles: ['admin'], scope: ADMIN_SCOPES })}`,
    };
    a = await startInstance(issuer, 'sqlite::memory:');
  });
  after(() => a.server.close());

  test('over graphql-ws: a REST write and a GraphQL mutation both arrive; other products do not', async () => {
    const [id, other] = await firstProducts(a);
    const sub = wsSubscribe(a.ws, { id });
    const first = sub.next();
    await until(() => a.server.pubsub.listenerCount(PRODUCT_CHANNEL) === 1, 'the subscription');
    assert.equal((await restPatch(a, other!, { price: 1.11 }, admin)).statusCode, 200);
    assert.equal((await restPatch(a, id!, { price: 12.34 }, admin)).statusCode, 200);
    assert.deepEqual(
      { ...(await first), name: undefined },
      { id, name: undefined, price: 12.34, formattedPrice: '$12.34' },
    );
    const second = sub.next();
    await gqlUpdate(a, id!, 56.78, admin);
    assert.equal((await second).price, 56.78);
    await sub.close();
    await until(() => a.server.pubsub.listenerCount(PRODUCT_CHANNEL) === 0, 'the unsubscription');
  });

  test('over SSE: the same events, and a closed stream unsubscribes', async () => {
    const [id] = await firstProducts(a);
    const sub = await sseSubscribe(a.http, { id });
    await until(() => a.server.pubsub.listenerCount(PRODUCT_CHANNEL) === 1, 'the subscription');
    const event = sub.next();
    await restPatch(a, id!, { name: 'Renamed over REST' }, admin);
    assert.equal((await event).name, 'Renamed over REST');
    const next = sub.next();
    await gqlUpdate(a, id!, 9.99, admin);
    assert.equal((await next).price, 9.99);
    sub.close();
    await until(() => a.server.pubsub.listenerCount(PRODUCT_CHANNEL) === 0, 'the unsubscription');
  });

  test('over graphql-ws, mutations take the token from the connection params', async () => {
    const [id] = await firstProducts(a);
    const mutation = `mutation { updateProduct(id: "${id}", input: { inStock: false }) { success } }`;
    for (const [params, expected] of [
      [{ authorization: admin.authorization }, { data: { updateProduct: { success: true } } }],
      [{}, 'AUTHENTICATION_REQUIRED'],
    ] as const) {
      const client = createClient({
        url: a.ws,
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        connectionParams: params,
      });
      try {
        const { value } = await client.iterate({ query: mutation }).next();
        if (typeof expected === 'string') assert.equal(value!.errors![0]!.extensions!.code, expected);
        else assert.deepEqual(value, expected);
      } finally {
        await client.dispose();
      }
    }
  });

  test('subscriptions go through the same limits and errors', async () => {
    const client = createClient({ url: a.ws, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
    try {
      const deep =
        'subscription { productUpdated { category { products { category { products { category { products { category { name } } } } } } } } }';
      for (const [query, pattern] of [
        ['subscription { productUpdated(nope: 2) { id } }', /Unknown argument "nope"/],
        [deep, /depth 9 exceeds the limit of 8/],
      ] as const) {
        await assert.rejects(client.iterate({ query }).next(), (errors: Array<{ message: string }>) => {
          assert.match(errors[0]!.message, pattern);
          return true;
        });
      }
    } finally {
      await client.dispose();
    }
  });
});

describe('subscriptions are authenticated like queries, before their document is read', () => {
  let issuer: TestIssuer;
  let a: Instance;
  before(async () => {
    issuer = await createTestIssuer();
    a = await startInstance(issuer, 'sqlite::memory:');
  });
  after(() => a.server.close());
  const invalid = 'subscription { productUpdated(nope: 2) { id } }';

  test('graphql-ws: bad credentials close the socket 4403 whatever the document; a good lower-case bearer subscribes', async () => {
    const expired = await issuer.sign({ sub: 'x', scope: USER_SCOPES }, { expiresIn: -60 });
    for (const authorization of [`Bearer ${expired}`, 'Basic dTpw', 'Bearer not.a.token']) {
      const client = createClient({
        url: a.ws,
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        connectionParams: { authorization },
      });
      try {
        await assert.rejects(client.iterate({ query: invalid }).next(), (event: { code?: number }) => {
          assert.equal(event.code, 4403, authorization);
          return true;
        });
      } finally {
        await client.dispose();
      }
    }
    const good = await issuer.sign({ sub: 'u', scope: USER_SCOPES });
    const client = createClient({
      url: a.ws,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      connectionParams: { authorization: `bearer ${good}` },
    });
    try {
      await assert.rejects(
        client.iterate({ query: invalid }).next(),
        (errors: Array<{ message: string }>) => {
          assert.match(errors[0]!.message, /Unknown argument "nope"/);
          return true;
        },
      );
    } finally {
      await client.dispose();
    }
  });

  test('SSE and HTTP: a bad token is a 401 problem before validation', async () => {
    for (const accept of ['text/event-stream', 'application/json']) {
      const res = await fetch(`${a.http}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: 'Bearer not.a.token' },
        body: JSON.stringify({ query: invalid }),
      });
      assert.equal(res.status, 401, accept);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      assert.equal(((await res.json()) as { code: string }).code, 'INVALID_TOKEN');
    }
  });
});

const redisUrl = redisTestUrl();
describe('productUpdated across instances (Redis pub/sub)', {
  skip: !redisUrl && 'TEST_REDIS_URL is not set',
}, () => {
  let issuer: TestIssuer;
  let dir: string;
  let a: Instance;
  let b: Instance;
  let admin: Record<string, string>;
  before(async () => {
    issuer = await createTestIssuer();
    admin = {
      authorization: `Bearer ${await issuer.sign({ sub: 'admin', roles: ['admin'], scope: ADMIN_SCOPES })}`,
    };
    // Two instances over one database and one Redis; a random prefix keeps parallel runs apart.
    dir = await mkdtemp(join(tmpdir(), 'catalog-pubsub-'));
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    a = await startInstance(issuer, `sqlite:${join(dir, 'catalog.db')}`, redisUrl, prefix);
    b = await startInstance(issuer, `sqlite:${join(dir, 'catalog.db')}`, redisUrl, prefix);
  });
  after(async () => {
    await a.server.close();
    await b.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a write on instance A reaches subscribers on B (WebSocket and SSE) and on A, once each', async () => {
    const [id] = await firstProducts(a);
    const onB = wsSubscribe(b.ws, { id });
    const fromB = onB.next();
    const sseOnB = await sseSubscribe(b.http, { id });
    const onA = wsSubscribe(a.ws, { id });
    const fromA = onA.next();
    // Each instance's read cache listens too (one more listener than the subscriptions).
    await until(() => b.server.pubsub.listenerCount(PRODUCT_CHANNEL) === 3, 'the subscriptions on B');
    await until(() => a.server.pubsub.listenerCount(PRODUCT_CHANNEL) === 2, 'the subscription on A');
    const readOnB = async () => (await b.server.inject({ url: `/api/v1/products/${id}` })).json().data.price;
    await readOnB(); // now in B's read cache

    assert.equal((await restPatch(a, id!, { price: 21.5 }, admin)).statusCode, 200);
    assert.equal((await fromB).price, 21.5);
    assert.equal(await readOnB(), 21.5, "A's write cleared B's read cache when its event arrived");
    assert.equal((await sseOnB.next()).price, 21.5);
    assert.equal((await fromA).price, 21.5);

    const [nextB, nextA] = [onB.next(), onA.next()];
    await gqlUpdate(a, id!, 22.75, admin);
    assert.equal((await nextB).price, 22.75);
    assert.equal((await sseOnB.next()).price, 22.75);
    // Once: the next event A sees is the next write, not a second copy of this one.
    assert.equal((await nextA).price, 22.75);
    const third = onA.next();
    await restPatch(b, id!, { price: 23 }, admin);
    assert.equal((await third).price, 23);

    await onA.close();
    await onB.close();
    sseOnB.close();
    await until(() => b.server.pubsub.listenerCount(PRODUCT_CHANNEL) === 1, 'the unsubscriptions on B');
  });
});
