/**
 * The seed's web-app routes as a backend-for-frontend:
 * - GET  /login     starts a sign-in: PKCE verifier, state and nonce kept in this browser's
 *                   session (several tabs may sign in at once: one entry per state)
 * - GET  /callback  accepts only a state this browser started, once, before it expires;
 *                   exchanges the code; starts a new session (new id: no fixation)
 * - GET  /logout    asks; POST /logout (CSRF-checked) ends the session, revokes the refresh
 *                   token and sends the browser to the provider's end_session endpoint
 * - GET  /api/session    who is signed in, and the CSRF token for the console's script
 * - GET  /api/protected  the seed's example of a route that needs a sign-in
 */

import formbody from '@fastify/formbody';
import { MFA } from '@portico/auth';
import { describeSecuritySchemes, ProblemSchema, pageHeaders, type Server } from '@portico/http';
import { isProblemError } from '@portico/problem';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebConfig } from '../config.ts';
import { errors } from '../errors.ts';
import { type OidcClient, OidcRejected } from '../oidc/client.ts';
import { checkCsrfToken, checkOrigin } from '../session/csrf.ts';
import type { Sessions } from '../session/sessions.ts';
import { logoutPage, messagePage } from '../ui/pages.ts';

const MAX_PENDING_LOGINS = 5;
const NO_STORE = { 'cache-control': 'no-store' };

export interface AuthDeps {
  config: WebConfig;
  client: OidcClient;
  sessions: Sessions;
}

/** Only a path on this console: no scheme, no host, no `//` or `/\` tricks. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > 2000) return '/';
  if (value.startsWith('//') || value.startsWith('/\\')) return '/';
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return '/';
  return value;
}

export async function authRoutes(server: Server, { config, client, sessions }: AuthDeps) {
  describeSecuritySchemes(server, () => ({
    session: {
      type: 'apiKey',
      in: 'cookie',
      name: sessions.cookieName,
      description: 'The console session, set by signing in at /login',
    },
  }));
  const publicUrl = new URL(config.publicUrl);
  // The few pages rendered here: no script at all, framed by no one; the sign-out form's
  // redirect goes on to the provider.
  const page = pageHeaders({
    'default-src': ["'none'"],
    'style-src': ["'self'"],
    'form-action': ["'self'", new URL(config.oidc.issuer).origin],
    'base-uri': ["'none'"],
  });
  const html = (reply: FastifyReply, status: number, body: string) => {
    reply.helmet(page);
    return reply.code(status).headers(NO_STORE).type('text/html; charset=utf-8').send(body);
  };

  // The sign-out form; WHATWG parsing, as browsers encode.
  await server.register(formbody, {
    bodyLimit: 4096,
    parser: (body) => Object.fromEntries(new URLSearchParams(body)),
  });

  server.get('/login', { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const returnTo = safeReturnTo(query.return_to);
    // Step-up after a 403 insufficient_user_authentication: only the one class a route can ask for.
    const acrValues = query.acr_values === MFA.acr ? MFA.acr : undefined;
    // The session cookie is host-bound: a sign-in must start on the host the callback returns to.
    if (request.headers.host !== publicUrl.host) {
      const again = new URLSearchParams({
        return_to: returnTo,
        ...(acrValues ? { acr_values: acrValues } : {}),
      });
      return reply.redirect(`${config.publicUrl}/login?${again}`, 303);
    }
    let started: Awaited<ReturnType<OidcClient['startLogin']>>;
    try {
      started = await client.startLogin(acrValues ? { acrValues } : {});
    } catch (err) {
      request.log.warn({ err }, 'cannot start a sign-in');
      return html(
        reply,
        503,
        messagePage(
          'Sign-in is unavailable',
          'The sign-in service does not answer right now. Try again in a moment.',
          {
            href: `/login?return_to=${encodeURIComponent(returnTo)}`,
            label: 'Try again',
          },
        ),
      );
    }
    const session = await sessions.ensure(request, reply);
    const now = Date.now();
    const logins = Object.entries(session.data.logins ?? {})
      .filter(([, login]) => login.expiresAt > now)
      .sort(([, a], [, b]) => a.expiresAt - b.expiresAt)
      .slice(-(MAX_PENDING_LOGINS - 1));
    session.data.logins = Object.fromEntries([
      ...logins,
      [started.state, { ...started.pending, returnTo, expiresAt: now + config.session.loginSeconds * 1000 }],
    ]);
    await sessions.save(session);
    return reply.headers(NO_STORE).redirect(started.url.href, 303);
  });

  server.get('/callback', { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const state = typeof query.state === 'string' ? query.state : '';
    const session = await sessions.read(request);
    const pending = state ? session?.data.logins?.[state] : undefined;
    if (!session || !pending || pending.expiresAt <= Date.now()) {
      return html(
        reply,
        400,
        messagePage(
          'Sign-in expired',
          'This sign-in has expired or was started in another browser. Start again.',
          { href: '/login', label: 'Sign in' },
        ),
      );
    }
    // One use only, whatever happens next.
    delete session.data.logins![state];
    await sessions.save(session);

    if (typeof query.error === 'string') {
      const cancelled = query.error === 'access_denied';
      const description = typeof query.error_description === 'string' ? query.error_description : query.error;
      return html(
        reply,
        cancelled ? 403 : 400,
        messagePage(
          cancelled ? 'Sign-in cancelled' : 'Sign-in failed',
          cancelled
            ? 'You cancelled the sign-in, so you are not signed in.'
            : `The sign-in failed: ${description}.`,
          { href: `/login?return_to=${encodeURIComponent(pending.returnTo)}`, label: 'Sign in again' },
        ),
      );
    }

    const callbackUrl = new URL(client.redirectUri);
    callbackUrl.search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    let result: Awaited<ReturnType<OidcClient['finishLogin']>>;
    try {
      result = await client.finishLogin(callbackUrl, state, pending);
    } catch (err) {
      if (err instanceof OidcRejected) {
        request.log.warn({ error: err.error, reason: err.message }, 'sign-in refused');
        return html(
          reply,
          400,
          messagePage('Sign-in failed', `The sign-in could not be completed (${err.message}). Start again.`, {
            href: `/login?return_to=${encodeURIComponent(pending.returnTo)}`,
            label: 'Sign in again',
          }),
        );
      }
      request.log.error({ err }, 'sign-in failed');
      return html(
        reply,
        isProblemError(err) ? err.status : 502,
        messagePage(
          'Sign-in failed',
          'The sign-in service does not answer right now. Try again in a moment.',
        ),
      );
    }
    await sessions.start(request, reply, { user: result.user, tokens: result.tokens });
    request.log.info({ event: 'login', sub: result.user.sub }, 'signed in');
    return reply.headers(NO_STORE).redirect(pending.returnTo, 303);
  });

  server.get('/logout', { schema: { hide: true } }, async (request, reply) => {
    const session = await sessions.read(request);
    if (!session?.data.user) return reply.redirect('/', 303);
    return html(
      reply,
      200,
      logoutPage(session.data.csrf, session.data.user.name ?? session.data.user.username),
    );
  });

  server.post('/logout', { schema: { hide: true } }, async (request, reply) => {
    checkOrigin(request, config.publicUrl);
    const session = await sessions.read(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    checkCsrfToken(session, request.headers['x-csrf-token'] ?? body.csrf);
    await sessions.end(request, reply);
    const tokens = session?.data.tokens;
    await client.revoke(tokens);
    const to = (await client.logoutUrl(tokens?.idToken))?.href ?? '/';
    request.log.info({ event: 'logout', sub: session?.data.user?.sub }, 'signed out');
    if ((request.headers.accept ?? '').includes('application/json'))
      return reply.headers(NO_STORE).send({ redirect: to });
    return reply.headers(NO_STORE).redirect(to, 303);
  });

  server.get(
    '/api/session',
    {
      schema: { tags: ['session'], summary: 'Who is signed in, and the CSRF token for state-changing calls' },
    },
    async (request, reply) => {
      const session = await sessions.read(request);
      reply.headers(NO_STORE);
      const user = session?.data.user;
      return {
        authenticated: Boolean(user),
        user: user ?? null,
        csrf_token: session?.data.csrf ?? null,
        expires_at: session ? new Date(session.expiresAt).toISOString() : null,
      };
    },
  );

  server.get(
    '/api/protected',
    {
      schema: {
        tags: ['session'],
        summary: 'The seed’s protected example: needs a sign-in',
        security: [{ session: [] }],
        response: { 401: ProblemSchema },
      },
    },
    async (request: FastifyRequest, reply) => {
      const session = await sessions.read(request);
      const user = session?.data.user;
      if (!user) throw errors.LOGIN_REQUIRED('Sign in to see this');
      reply.headers(NO_STORE);
      return { message: 'Access granted', user, data: 'Protected content' };
    },
  );
}
