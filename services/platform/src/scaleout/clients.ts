/**
 * The clients a scale-out run needs: API tokens from identity (the token CLI's flow), a
 * console session signed in through the console's own login, and raw calls pinned to a
 * replica (straight to its port, or through HAProxy with `X-Portico-Replica`).
 */
import { createBrowser } from '../../../identity/src/cli/browser.ts';
import { obtainToken } from '../../../identity/src/cli/token-flow.ts';
import type { Deployment } from './deployment.ts';

export const API_SCOPES =
  'openid offline_access catalog:read catalog:write orders:read orders:write payments:read payments:write users:read users:write';

export interface ApiLogin {
  accessToken: string;
  refreshToken: string;
}

/** The token CLI's authorization code flow, through HAProxy (so over both identity replicas). */
export async function apiLogin(deployment: Deployment, username: string): Promise<ApiLogin> {
  const password = deployment.logins[username];
  if (!password) throw new Error(`no demo login for ${username}`);
  const tokens = await obtainToken({
    issuer: deployment.url('identity'),
    clientId: 'portico-cli',
    redirectUri: 'http://127.0.0.1/callback',
    scope: API_SCOPES,
    credentials: { username, password },
  });
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token! };
}

/** A refresh_token grant sent to one identity replica's own port. */
export async function refreshAt(deployment: Deployment, replica: string, refreshToken: string) {
  const res = await fetch(`${deployment.replicaUrl(replica)}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'portico-cli',
    }),
  });
  const body = (await res.json()) as { access_token?: string; refresh_token?: string; error?: string };
  return { status: res.status, body };
}

export interface ConsoleSession {
  /** A request to the console through HAProxy, pinned to `replica` when given. */
  request(path: string, init?: { replica?: string; method?: string; body?: unknown }): Promise<Response>;
  cookies(): string;
}

/** Signs `username` in through the console (through HAProxy, the sign-in pinned to `replica`). */
export async function consoleSignIn(
  deployment: Deployment,
  username: string,
  replica: string,
): Promise<ConsoleSession> {
  const base = deployment.url('web');
  const jar = new Map<string, string>();
  let csrf = '';
  const session: ConsoleSession = {
    async request(path, init = {}) {
      const headers: Record<string, string> = {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.replica ? { 'x-portico-replica': init.replica } : {}),
      };
      if (init.method && init.method !== 'GET') {
        headers.origin = base;
        headers['x-csrf-token'] = csrf;
      }
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers,
        redirect: 'manual',
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const i = pair!.indexOf('=');
        const name = pair!.slice(0, i).trim();
        const value = pair!.slice(i + 1).trim();
        if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
        else jar.set(name, value);
      }
      return res;
    },
    cookies: () => [...jar.keys()].join(', '),
  };
  const start = await session.request('/login?return_to=%2F', { replica });
  const authorize = start.headers.get('location');
  if (start.status !== 303 || !authorize) throw new Error(`/login answered ${start.status}`);
  const callback = await createBrowser().authorize(new URL(authorize), `${base}/callback`, {
    username,
    password: deployment.logins[username]!,
  });
  const done = await session.request(`${callback.pathname}${callback.search}`, { replica });
  if (done.status >= 400) throw new Error(`callback answered ${done.status}: ${await done.text()}`);
  const state = (await (await session.request('/api/session', { replica })).json()) as { csrf_token: string };
  csrf = state.csrf_token;
  return session;
}
