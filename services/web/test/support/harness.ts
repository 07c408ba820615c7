/**
 * Test rig for the console: the real identity service (oidc-provider) on a free port, a
 * recording stand-in for the gateway (HTTP, plus graphql-ws on /graphql), and the web
 * service built on a database target. `signIn` walks the whole authorization code flow
 * the way a browser does: the console's /login, the provider's login and consent pages,
 * the console's /callback.
 */

import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { type DeepPartial, loadConfig } from '@portico/config';
import type { Server } from '@portico/http';
import { freePort } from '@portico/http/testing';
import type { IdentityConfig, IdentityServer } from '@portico/identity';
import type { DatabaseTarget } from '@portico/store/testing';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { build, ConfigSchema, type WebConfig, type WebDeps } from '../../src/build.ts';

export const PUBLIC_URL = 'http://localhost:3000';
export const HOST = 'localhost:3000';
/** The portico-web client's secret, given to both ends the way the platform does (one variable). */
export const WEB_CLIENT_SECRET =
  process.env.PORTICO_WEB_CLIENT_SECRET || 'portico-web-test-secret-0123456789';
process.env.PORTICO_WEB_CLIENT_SECRET = WEB_CLIENT_SECRET;

export { freePort };

export interface RunningIdentity {
  server: IdentityServer;
  issuer: string;
  password(username: string): string;
  close(): Promise<void>;
}

/** `host`: the issuer's (it listens on 127.0.0.1 either way); passkeys want `localhost`. */
export async function startIdentity(
  overrides: Record<string, unknown> = {},
  { host = '127.0.0.1' }: { host?: string } = {},
): Promise<RunningIdentity> {
  // Imported here, after the secret is in the environment, for an identity that reads it at load.
  const identity = await import('@portico/identity');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const issuer = `http://${host}:${port}`;
    const config = loadConfig('identity', identity.ConfigSchema, {
      env: { PORTICO_WEB_CLIENT_SECRET: WEB_CLIENT_SECRET },
      overrides: {
        databaseUrl: 'sqlite::memory:',
        keysFile: '',
        demoLoginsFile: '',
        logLevel: 'silent',
        ...overrides,
        issuer,
        port,
      } as DeepPartial<IdentityConfig>,
    });
    const server = await identity.build(config);
    try {
      await server.listen({ port, host: '127.0.0.1' });
    } catch (err) {
      await server.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw err;
    }
    return {
      server,
      issuer,
      password: (username) => server.demoLogins.find((l) => l.username === username)!.password,
      close: () => server.close(),
    };
  }
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeGateway {
  url: string;
  requests: Recorded[];
  /** Sends a productUpdated event to every subscriber. */
  publish(product: Record<string, unknown>): void;
  /** connectionParams of every graphql-ws connection. */
  connections: Array<Record<string, unknown> | undefined>;
  subscribed: Promise<void>;
  /** graphql-ws sockets open now, and productUpdated subscriptions running now. */
  sockets(): number;
  subscriptions(): number;
  close(): Promise<void>;
}

/** Answers every /api request with what it received; 401 when `unauthorized` says so. */
export async function startFakeGateway(
  options: { unauthorized?: (req: Recorded) => boolean } = {},
): Promise<FakeGateway> {
  const requests: Recorded[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(recorded);
      if (options.unauthorized?.(recorded)) {
        res.writeHead(401, {
          'content-type': 'application/problem+json',
          'www-authenticate': 'Bearer error="invalid_token"',
        });
        res.end(
          JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'INVALID_TOKEN' }),
        );
        return;
      }
      res.writeHead(req.method === 'POST' ? 201 : 200, {
        'content-type': 'application/json',
        'set-cookie': 'tracker=1; Path=/',
        'x-internal-secret': 'do-not-leak',
        location: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/things/1`,
        etag: '"v1"',
        'cache-control': 'public, max-age=5',
      });
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
  });

  const schema = buildSchema(`
    type Product {
      id: ID! name: String! description: String! price: Float! formattedPrice: String! currency: String!
      categoryId: ID! inStock: Boolean! createdAt: String! updatedAt: String!
    }
    type Query { ok: Boolean }
    type Subscription { productUpdated(id: ID): Product! }
  `);
  const listeners = new Set<(p: Record<string, unknown>) => void>();
  let onSubscribed: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => {
    onSubscribed = resolve;
  });
  const roots = {
    productUpdated: () => {
      const queue: Record<string, unknown>[] = [];
      let wake: (() => void) | undefined;
      const push = (p: Record<string, unknown>) => {
        queue.push(p);
        wake?.();
      };
      listeners.add(push);
      onSubscribed();
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        async next() {
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          return { value: { productUpdated: queue.shift() }, done: false };
        },
        async return() {
          listeners.delete(push);
          return { value: undefined, done: true };
        },
      };
    },
  };
  const connections: Array<Record<string, unknown> | undefined> = [];
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const ws = useServer(
    {
      schema,
      roots: { subscription: roots },
      onConnect: (ctx) => {
        connections.push(ctx.connectionParams as Record<string, unknown> | undefined);
      },
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections,
    subscribed,
    sockets: () => wss.clients.size,
    subscriptions: () => listeners.size,
    publish: (p) => {
      for (const l of listeners) l(p);
    },
    async close() {
      await ws.dispose();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startWeb(
  target: DatabaseTarget,
  issuer: string,
  gatewayUrl: string,
  overrides: DeepPartial<WebConfig> = {},
  deps: WebDeps = {},
): Promise<Server> {
  const config = loadConfig('web', ConfigSchema, {
    env: {},
    overrides: {
      databaseUrl: target.url,
      databaseSchema: target.schema ?? 'web',
      logLevel: 'silent',
      publicUrl: PUBLIC_URL,
      gatewayUrl,
      ...overrides,
      oidc: { issuer, clientSecret: WEB_CLIENT_SECRET, ...overrides.oidc },
    },
  });
  return build(config, deps);
}

export interface Stack {
  idp: RunningIdentity;
  gateway: FakeGateway;
  web: Server;
  /** Stops all three, newest first, and drops the target's data. */
  close(): Promise<void>;
}

/** The real identity service, a fake gateway, and the console in front of them. */
export async function startStack(
  target: DatabaseTarget,
  overrides: DeepPartial<WebConfig> = {},
): Promise<Stack> {
  const idp = await startIdentity();
  const gateway = await startFakeGateway();
  const web = await startWeb(target, idp.issuer, gateway.url, overrides);
  return {
    idp,
    gateway,
    web,
    async close() {
      await web.close();
      await gateway.close();
      await idp.close();
      await target.cleanup();
    },
  };
}

/** A browser's cookies for one host, as far as these tests need them. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  take(setCookie: string | string[] | undefined) {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * The provider's part of a sign-in, as a browser does it: follows redirects, fills the login
 * form, allows consent. Returns the URL the provider finally sends the browser to, on `consoleUrl`.
 */
export async function approveAtProvider(
  authorizeUrl: string,
  username: string,
  password: string,
  consoleUrl = PUBLIC_URL,
): Promise<string> {
  const jar = new CookieJar();
  const go = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('cookie', jar.header());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.take(res.headers.getSetCookie());
    return res;
  };
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  let res = await go(authorizeUrl);
  for (let hops = 0; hops < 10; hops++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, res.url || authorizeUrl).href;
      if (next.startsWith(consoleUrl)) return next;
      res = await go(next);
      continue;
    }
    const page = await res.text();
    const base = res.url || authorizeUrl;
    const login = /action="([^"]+\/login)"/.exec(page)?.[1];
    const confirm = /action="([^"]+\/confirm)"/.exec(page)?.[1];
    if (login) res = await go(new URL(login, base).href, form({ username, password }));
    else if (confirm) res = await go(new URL(confirm, base).href, form({}));
    else throw new Error(`unexpected provider page (${res.status}): ${page.slice(0, 300)}`);
  }
  throw new Error('too many hops at the provider');
}

export interface Browser {
  jar: CookieJar;
  /** inject with this browser's cookies and Host; keeps the cookies it gets back. */
  request(init: {
    method?: string;
    url: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  }): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string; json<T = any>(): T }>;
}

export function browser(web: Server): Browser {
  const jar = new CookieJar();
  return {
    jar,
    async request({ method = 'GET', url, headers = {}, body }) {
      const res = await web.inject({
        method: method as 'GET',
        url,
        headers: { host: HOST, ...(jar.cookies.size ? { cookie: jar.header() } : {}), ...headers },
        ...(body !== undefined ? { payload: body } : {}),
      });
      jar.take(res.headers['set-cookie'] as string | string[] | undefined);
      return res as never;
    },
  };
}

/** Signs `username` in through the console; returns the browser, now holding the session cookie. */
export async function signIn(web: Server, idp: RunningIdentity, username = 'alice', returnTo = '/cart') {
  const b = browser(web);
  const start = await b.request({ url: `/login?return_to=${encodeURIComponent(returnTo)}` });
  if (start.statusCode !== 303) throw new Error(`/login answered ${start.statusCode}: ${start.body}`);
  const callback = await approveAtProvider(String(start.headers.location), username, idp.password(username));
  const url = new URL(callback);
  const done = await b.request({ url: `${url.pathname}${url.search}` });
  return { browser: b, start, callback: url, done };
}

export async function session(b: Browser) {
  return (await b.request({ url: '/api/session' })).json<{
    authenticated: boolean;
    user: { sub: string; name?: string; username?: string; roles: string[] } | null;
    csrf_token: string | null;
  }>();
}
