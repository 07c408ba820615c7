/**
 * The platform for the console's browser tests, every piece real and on its own free port:
 * identity (in-memory SQLite, its development mailbox, the console's redirect URIs pointed at
 * the console's port), the upstreams a test asks for (users, catalog, orders), the gateway
 * on the embedded gateway.yaml with its upstreams pointed at those ports, and the console on
 * `http://localhost:<port>`. An upstream not asked for points at a port nothing listens on.
 * Also a suite's browser beside it (`browserSuite`), and `skip` when chromium is not installed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromiumMissing, launchChromium, skipOutsideCI } from '@portico/browser-testing';
import { type DeepPartial, loadConfig, type TSchema } from '@portico/config';
import type { Server, ServiceModule } from '@portico/http';
import { freePort } from '@portico/http/testing';
import type { DatabaseTarget } from '@portico/store/testing';
import type { Browser, Page } from 'playwright-core';
import type { WebConfig } from '../../src/build.ts';
import { type RunningIdentity, startIdentity, startWeb } from './harness.ts';

/** Why the browser tests cannot run here; they must in CI. */
export const skip = skipOutsideCI(chromiumMissing);

/** A page in a context of its own (its own cookies), patient enough for a loaded machine. */
export async function newPage(browser: Browser, viewport = { width: 1100, height: 800 }): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** Numbered full-page screenshots in test-results/<folder>/, emptied first. */
export function screenshots(folder: string) {
  const dir = join(import.meta.dirname, '../../../../test-results', folder);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let shot = 0;
  return (page: Page, name: string) =>
    page.screenshot({ path: join(dir, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

export interface BrowserSuite<P extends string> {
  /** Set before the suite's tests. */
  platform: Platform;
  browser: Browser;
  /** The suite's pages by name, each in a context of its own; filled before its tests. */
  pages: Record<P, Page>;
  screenshot: ReturnType<typeof screenshots>;
  /** Signs `page` in to the console; the password is the demo account's unless given. */
  signIn(page: Page, username: string, password?: string): Promise<void>;
  /** Runs a test's steps; when they fail, a screenshot of every page (FAILED-<name>) first. */
  run(steps: () => Promise<void>): Promise<void>;
}

export interface BrowserSuiteOptions<P extends string> extends PlatformOptions {
  /** The screenshots' folder under test-results/. */
  folder: string;
  /** A page per name, each in a context of its own. */
  pages: readonly P[];
  /** The pages' viewport; newPage's by default. */
  viewport?: { width: number; height: number };
}

/**
 * For the describe block it is called in: the platform and chromium, started before its tests
 * and closed after them.
 */
export function browserSuite<const P extends string>(
  target: DatabaseTarget,
  { folder, pages, viewport, ...options }: BrowserSuiteOptions<P>,
): BrowserSuite<P> {
  const suite = {
    pages: {} as Record<P, Page>,
    screenshot: screenshots(folder),
    signIn: (page: Page, username: string, password?: string) =>
      signInWithPassword(
        page,
        suite.platform.consoleUrl,
        username,
        password ?? suite.platform.idp.password(username),
      ),
    async run(steps: () => Promise<void>) {
      try {
        await steps();
      } catch (err) {
        for (const [name, page] of Object.entries<Page>(suite.pages))
          await suite.screenshot(page, `FAILED-${name}`).catch(() => {});
        throw err;
      }
    },
  } as BrowserSuite<P>;
  before(async () => {
    suite.platform = await startPlatform(target, options);
    suite.browser = await launchChromium();
    for (const name of pages) suite.pages[name] = await newPage(suite.browser, viewport);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.platform?.close();
  });
  return suite;
}

/** Signs in to the console with a password, from its Sign in link to back on the console. */
export async function signInWithPassword(page: Page, consoleUrl: string, username: string, password: string) {
  await page.goto(consoleUrl);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.origin === consoleUrl);
}

type Upstream = 'users' | 'catalog' | 'orders';
/** The seed's ports in gateway.yaml, by upstream. */
const SEED_PORTS = { users: 8001, catalog: 8002, orders: 8003, payments: 8004, identity: 9000 } as const;

export interface PlatformOptions {
  /** Upstreams to run behind the gateway besides identity. */
  upstreams?: Upstream[];
  /** Identity's settings beside the test defaults (e.g. `admin: { requireMfa: false }`). */
  identity?: Record<string, unknown>;
  /**
   * The issuer's host: `localhost` for passkeys (WebAuthn wants a domain as RP ID); otherwise
   * 127.0.0.1, so the provider's cookies and the console's are on different hosts.
   */
  issuerHost?: 'localhost' | '127.0.0.1';
  web?: DeepPartial<WebConfig>;
}

export interface Platform {
  idp: RunningIdentity;
  gatewayUrl: string;
  /** Its operator listener is not opened; a test that reads /metrics opens it. */
  gateway: Pick<Server, 'operator'>;
  consoleUrl: string;
  web: Server;
  close(): Promise<void>;
}

export async function startPlatform(
  target: DatabaseTarget,
  options: PlatformOptions = {},
): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-console-platform-'));
  const running: Array<{ close(): Promise<unknown> }> = [];
  const close = async () => {
    for (const server of running.reverse()) await server.close();
    await target.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const webPort = await freePort();
    const consoleUrl = `http://localhost:${webPort}`;
    const identityModule = await import('@portico/identity');
    const idp = await startIdentity(
      {
        clients: loadConfig('identity', identityModule.ConfigSchema, { env: {} }).clients.map((c) =>
          c.client_id === 'portico-web'
            ? {
                ...c,
                redirect_uris: [`${consoleUrl}/callback`],
                post_logout_redirect_uris: [`${consoleUrl}/`],
              }
            : c,
        ),
        ...options.identity,
      },
      { host: options.issuerHost ?? '127.0.0.1' },
    );
    running.push(idp);
    const auth = { issuer: idp.issuer, audience: 'http://localhost:8000', jwksUri: `${idp.issuer}/jwks` };

    const urls: Record<keyof typeof SEED_PORTS, string> = {
      identity: idp.issuer,
      users: `http://127.0.0.1:${await freePort()}`,
      catalog: `http://127.0.0.1:${await freePort()}`,
      orders: `http://127.0.0.1:${await freePort()}`,
      payments: `http://127.0.0.1:${await freePort()}`,
    };
    const start = async (
      name: string,
      module: ServiceModule<TSchema>,
      port: number,
      overrides: Record<string, unknown>,
    ) => {
      const config = loadConfig(name, module.ConfigSchema, {
        env: {},
        overrides: { port, logLevel: 'silent', ...overrides } as never,
      });
      const server = await module.build(config);
      running.push(server);
      await server.listen({ port, host: '127.0.0.1' });
      return server;
    };
    const portOf = (url: string) => Number(new URL(url).port);
    const upstreams = new Set(options.upstreams ?? []);
    const modules = {
      users: () => import('@portico/users'),
      catalog: () => import('@portico/catalog'),
      orders: () => import('@portico/orders'),
    };
    const settings: Record<Upstream, Record<string, unknown>> = {
      users: {},
      catalog: { readCacheTtlMs: 0 },
      orders: { catalog: { url: urls.catalog, timeoutMs: 5000 } },
    };
    for (const name of ['users', 'catalog', 'orders'] as const) {
      if (!upstreams.has(name)) continue;
      const module = (await modules[name]()) as unknown as ServiceModule<TSchema>;
      await start(name, module, portOf(urls[name]), {
        databaseUrl: 'sqlite::memory:',
        auth,
        ...settings[name],
      });
    }

    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      readFileSync(join(import.meta.dirname, '../../../gateway/gateway.yaml'), 'utf8')
        .replace(/http:\/\/127\.0\.0\.1:(\d+)/g, (seed, port: string) => {
          const name = Object.entries(SEED_PORTS).find(([, p]) => String(p) === port)?.[0];
          return name ? urls[name as keyof typeof SEED_PORTS] : seed;
        })
        .replace('origins: [http://localhost:3000]', `origins: [${consoleUrl}]`),
    );
    const gatewayModule = (await import('@portico/gateway')) as unknown as ServiceModule<TSchema>;
    const gatewayPort = await freePort();
    const gateway = await start('gateway', gatewayModule, gatewayPort, {
      file,
      watch: false,
      auth: { ...auth, hs256Secret: '' },
    });
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;

    const web = await startWeb(target, idp.issuer, gatewayUrl, { publicUrl: consoleUrl, ...options.web });
    running.push(web);
    await web.listen({ port: webPort, host: '127.0.0.1' });
    return { idp, gatewayUrl, gateway, consoleUrl, web, close };
  } catch (err) {
    await close();
    throw err;
  }
}
