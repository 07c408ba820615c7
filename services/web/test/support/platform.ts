/**
 * The platform for the console's browser tests, every piece real and on its own free port:
 * identity (in-memory SQLite, its development mailbox, the console's redirect URIs pointed at
 * the console's port), the upstreams a test asks for (users, catalog, orders), the gateway
 * on the embedded gateway.yaml with its upstreams pointed at those ports, and the console on
 * `http://localhost:<port>`. An upstream not asked for points at a port nothing listens on.
 * Also Chromium (Debian's, through playwright-core), and `skip` when it is not installed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeepPartial, loadConfig, type TSchema } from '@portico/config';
import type { Server, ServiceModule } from '@portico/http';
import { freePort } from '@portico/http/testing';
import type { DatabaseTarget } from '@portico/store/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { WebConfig } from '../../src/build.ts';
import { type RunningIdentity, startIdentity, startWeb } from './harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Why the browser tests cannot run here; they must in CI. */
export const skip: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium)`;
if (skip && process.env.CI) throw new Error(`the browser test must run in CI, but ${skip}`);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}

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
