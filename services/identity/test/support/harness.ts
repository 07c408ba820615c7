/**
 * Starts the identity service for a test: a real listener on a free loopback port with
 * the issuer set to that address, on the given database target.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type DeepPartial, loadConfig } from '@portico/config';
import { freePort } from '@portico/http/testing';
import { type DatabaseTarget, databaseTargets, redisTestUrl } from '@portico/store/testing';
import * as client from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { build, type IdentityConfig, type IdentityServer } from '../../src/build.ts';
import { type Browser, type Credentials, createBrowser } from '../../src/cli/browser.ts';
import { ConfigSchema } from '../../src/config.ts';

export interface RunningIdentity {
  server: IdentityServer;
  issuer: string;
  config: IdentityConfig;
  login(username: string): { username: string; password: string };
  close(): Promise<void>;
}

export async function startIdentity(
  target: DatabaseTarget | { url: string; schema?: string },
  overrides: DeepPartial<IdentityConfig> = {},
): Promise<RunningIdentity> {
  for (let attempt = 0; ; attempt++) {
    const port = overrides.port ?? (await freePort());
    const issuer = overrides.issuer ?? `http://127.0.0.1:${port}`;
    const config = loadConfig('identity', ConfigSchema, {
      env: {},
      overrides: {
        databaseUrl: target.url,
        ...(target.schema ? { databaseSchema: target.schema } : {}),
        keysFile: '',
        demoLoginsFile: '',
        clientSecrets: { web: WEB.secret, service: SERVICE_SECRET },
        logLevel: 'silent',
        ...overrides,
        issuer,
        port,
      } as DeepPartial<IdentityConfig>,
    });
    const server = await build(config);
    try {
      await server.listen({ port, host: '127.0.0.1' });
    } catch (err) {
      await server.close();
      // freePort's ports are held from every other freePort caller; a process that names a
      // port of its own could still take this one before the listen: try another.
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && !overrides.port && attempt < 5) continue;
      throw err;
    }
    const logins = server.demoLogins;
    return {
      server,
      issuer,
      config,
      login(username) {
        const found = logins.find((l) => l.username === username);
        if (!found) throw new Error(`no demo login ${username}`);
        return { username: found.username, password: found.password };
      },
      close: () => server.close(),
    };
  }
}

export const WEB = {
  id: 'portico-web',
  secret: randomBytes(24).toString('base64url'),
  redirect: 'http://localhost:3000/callback',
  postLogout: 'http://localhost:3000/',
};
export const SERVICE_SECRET = randomBytes(24).toString('base64url');
export const CLI = { id: 'portico-cli', redirect: 'http://127.0.0.1/callback' };
export const API_SCOPES = 'catalog:read catalog:write orders:read orders:write users:read users:write';

/** openid-client configured for the confidential web client, ID token signatures checked. */
export async function webClient(issuer: string, secret = WEB.secret): Promise<client.Configuration> {
  const config = await client.discovery(new URL(issuer), WEB.id, secret, client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config);
  return config;
}

export async function cliClient(issuer: string): Promise<client.Configuration> {
  const config = await client.discovery(new URL(issuer), CLI.id, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config);
  return config;
}

export interface Pkce {
  verifier: string;
  challenge: string;
  state: string;
  nonce: string;
}

export async function pkce(): Promise<Pkce> {
  const verifier = client.randomPKCECodeVerifier();
  return {
    verifier,
    challenge: await client.calculatePKCECodeChallenge(verifier),
    state: client.randomState(),
    nonce: client.randomNonce(),
  };
}

/**
 * Where the provider's artefacts live in a test: each database target, and SQLite
 * accounts with Redis artefacts when TEST_REDIS_URL is set (a random key prefix each).
 */
export interface StorageTarget {
  name: string;
  target: DatabaseTarget;
  overrides: DeepPartial<IdentityConfig>;
}

export function storageTargets(): StorageTarget[] {
  const out = databaseTargets().map((make): StorageTarget => {
    const target = make();
    return { name: target.name, target, overrides: {} };
  });
  const redis = redisTestUrl();
  if (redis) {
    out.push({
      name: 'redis',
      target: { name: 'sqlite', url: 'sqlite::memory:', cleanup: async () => {} },
      overrides: { redis: { url: redis, keyPrefix: `test:${randomBytes(6).toString('hex')}:` } },
    });
  }
  return out;
}

/**
 * Signs in through the provider's pages as the web client and exchanges the code:
 * the tokens, or the FlowError of the page that refused.
 */
export async function signInWeb(
  issuer: string,
  credentials: Credentials,
  scope = `openid profile email offline_access ${API_SCOPES}`,
) {
  const config = await webClient(issuer);
  const p = await pkce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: WEB.redirect,
    scope,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    state: p.state,
  });
  const callback = await createBrowser().authorize(url, WEB.redirect, credentials);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: p.verifier,
    expectedState: p.state,
  });
  return { config, tokens };
}

/** The newest development-mailbox message to `to` whose subject matches, polled for up to 20 s. */
export async function waitForMail(identity: RunningIdentity, to: string, subject: RegExp, after = '') {
  const mailbox = identity.server.mailer.mailbox;
  if (!mailbox) throw new Error('this identity runs no development mailbox');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = mailbox.list({ to }).find((m) => subject.test(m.subject) && m.receivedAt > after);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${subject}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The first link in a mail's text that starts with `prefix`. */
export function linkIn(text: string, prefix: string): URL {
  const found = text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!found) throw new Error(`no ${prefix} link in:\n${text}`);
  return new URL(found);
}

/** A browser at the login form of a fresh authorization request; returns it and the form's URL. */
export async function atLoginForm(
  issuer: string,
): Promise<{ browser: Browser; loginUrl: URL; interaction: URL }> {
  const browser = createBrowser();
  const interaction = await startSignIn(issuer, browser);
  return { browser, interaction, loginUrl: new URL(`${interaction.pathname}/login`, issuer) };
}

/** Starts a sign-in as the web client in `browser`: the provider's interaction (login page) URL. */
export async function startSignIn(issuer: string, browser: Browser, scope = 'openid'): Promise<URL> {
  const p = await pkce();
  const auth = new URL('/auth', issuer);
  auth.search = new URLSearchParams({
    client_id: WEB.id,
    response_type: 'code',
    scope,
    redirect_uri: WEB.redirect,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
  }).toString();
  const start = await browser.request(auth);
  return new URL(start.headers.get('location')!, issuer);
}

/** What an account page holds: its CSRF token, its refusal's stable code, its form's ticket. */
export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
export const codeOf = (html: string) => /data-code="([A-Z_]+)"/.exec(html)?.[1];
export const ticketOf = (html: string) => /name="ticket" value="([^"]+)"/.exec(html)?.[1] ?? '';

/**
 * The code of the time step `offset` steps from now. A code one step back is made only with
 * at least 10 s of the current step left, so the step does not pass before the server checks
 * it (which would put the code two steps back, outside the accepted window).
 */
export async function codeAt(secret: string, offset: -1 | 0 | 1): Promise<string> {
  if (offset < 0) {
    for (;;) {
      const intoStep = (Date.now() / 1000) % 30;
      if (intoStep < 20) break;
      await new Promise((resolve) => setTimeout(resolve, (30 - intoStep) * 1000 + 50));
    }
  }
  const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  return totp.generate({ timestamp: Date.now() + offset * 30_000 });
}

export interface Enrolled {
  secret: string;
  recoveryCodes: string[];
}

/** Goes through /account/two-step as `credentials`; the secret shown and the recovery codes. */
export async function enrol(
  identity: RunningIdentity,
  credentials: { username: string; password: string },
  browser: Browser = createBrowser(),
): Promise<Enrolled> {
  const start = new URL('/account/two-step', identity.issuer);
  const form = await (await browser.request(start)).text();
  const begun = await browser.request(start, { csrf: csrfOf(form), ...credentials });
  const page = await begun.text();
  assert.equal(begun.status, 200, page);
  assert.match(page, /<svg[^>]*>/, 'a QR code');
  const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(page)?.[1]?.replaceAll(' ', '');
  assert.ok(secret && secret.length >= 32, 'the key, as text');

  const confirmUrl = new URL('/account/two-step/confirm', identity.issuer);
  const wrong = await browser.request(confirmUrl, {
    csrf: csrfOf(page),
    ticket: ticketOf(page),
    code: '000000' === (await codeAt(secret, 0)) ? '111111' : '000000',
  });
  const wrongHtml = await wrong.text();
  assert.equal(wrong.status, 401);
  assert.equal(codeOf(wrongHtml), 'WRONG_CODE');

  // One step back, so the tests can sign in with the current and the next step's codes.
  const confirmed = await browser.request(confirmUrl, {
    csrf: csrfOf(wrongHtml),
    ticket: ticketOf(wrongHtml),
    code: await codeAt(secret, -1),
  });
  const done = await confirmed.text();
  assert.equal(confirmed.status, 200, done);
  const recoveryCodes = [...done.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  assert.equal(recoveryCodes.length, 10);
  assert.equal(new Set(recoveryCodes).size, 10);
  return { secret, recoveryCodes };
}
