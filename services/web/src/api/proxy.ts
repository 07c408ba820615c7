/**
 * `/api/*` (other than the console's own routes) goes to the gateway, same origin for the
 * browser, with the session's access token added on the way: the browser never sees a token.
 * - state-changing methods pass the Origin and CSRF checks first
 * - request and response headers are passed by allow-list (no cookies out, no Set-Cookie back)
 * - a 401 from the API for a token we thought fresh gets one refresh and one retry
 * - the visitor's address is appended to X-Forwarded-For: the gateway trusts this hop (it is
 *   configured as a trusted proxy there), so each anonymous visitor keeps a rate-limit bucket
 *   of their own instead of all of them sharing the console's
 * - with tracing on, every answer says its trace (`traceresponse`, W3C Trace Context level 2),
 *   so the console can link an error to the request's trace
 * - only a gateway that does not answer is GATEWAY_UNAVAILABLE; anything else thrown is a 500
 */
import { dependencyFailure, isTransportError, type Server } from '@portico/http';
import { activeTraceResponse, noteUser, propagating } from '@portico/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, type Dispatcher, request as send } from 'undici';
import type { WebConfig } from '../config.ts';
import { errors } from '../errors.ts';
import type { AccessTokens } from '../oidc/tokens.ts';
import { checkCsrfToken, checkOrigin, SAFE_METHODS } from '../session/csrf.ts';
import type { Sessions } from '../session/sessions.ts';

const REQUEST_HEADERS = [
  'accept',
  'accept-language',
  'cache-control',
  'content-type',
  'if-match',
  'if-none-match',
  'idempotency-key',
  'traceparent',
  'tracestate',
];

const UNTRACED_HEADERS = REQUEST_HEADERS.filter((name) => name !== 'traceparent' && name !== 'tracestate');

const RESPONSE_HEADERS = [
  'content-type',
  'content-language',
  'etag',
  'last-modified',
  'location',
  'allow',
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
  'x-cache',
];

export interface ProxyDeps {
  config: WebConfig;
  sessions: Sessions;
  tokens: AccessTokens;
  /** Overrides the connection pool (tests). */
  dispatcher?: Dispatcher;
}

export function proxyRoutes(server: Server, { config, sessions, tokens, dispatcher }: ProxyDeps) {
  const gateway = new URL(config.gatewayUrl);
  const agent =
    dispatcher ??
    new Agent({ connections: 64, keepAliveTimeout: 10_000, headersTimeout: 30_000, bodyTimeout: 60_000 });
  server.addHook('onClose', async () => {
    if (!dispatcher) await agent.close();
  });

  // Bodies go through untouched, whatever their type.
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  async function forward(request: FastifyRequest, token: string | undefined) {
    const target = new URL(request.url, gateway);
    if (target.origin !== gateway.origin || !target.pathname.startsWith('/api/'))
      throw errors.ORIGIN_NOT_ALLOWED('Only the API may be reached through /api');
    const headers: Record<string, string> = { 'x-request-id': request.id };
    // Tracing on: the console's own span goes on to the gateway, sent by the undici
    // instrumentation; passing the browser's as well would send two.
    const names = propagating() ? UNTRACED_HEADERS : REQUEST_HEADERS;
    for (const name of names) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (token) headers.authorization = `Bearer ${token}`;
    // The visitor: the socket's peer, or with WEB_TRUSTED_PROXIES the address those proxies
    // forwarded (read from the right). One address, so the gateway counts the console as one hop.
    headers['x-forwarded-for'] = request.ip;
    const body = request.body as Buffer | undefined;
    try {
      return await send(target, {
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body: body && body.length > 0 ? body : undefined,
        dispatcher: agent,
      });
    } catch (err) {
      if (!isTransportError(err)) throw err;
      request.log.warn({ err }, 'gateway unreachable');
      throw errors.GATEWAY_UNAVAILABLE('The API gateway does not answer right now. Try again in a moment.', {
        cause: err,
        headers: dependencyFailure('gateway', 1),
      });
    }
  }

  // Before anything can fail, so a problem the console answers itself says its trace too.
  server.addHook('onRequest', async (_request, reply) => {
    const traceResponse = activeTraceResponse();
    if (traceResponse) reply.header('traceresponse', traceResponse);
  });

  async function handler(request: FastifyRequest, reply: FastifyReply) {
    const session = await sessions.read(request);
    if (session?.data.user) noteUser(session.data.user.sub);
    if (!SAFE_METHODS.has(request.method)) {
      checkOrigin(request, config.publicUrl);
      // Every change the API offers needs a user; say so before talking about tokens.
      if (!session?.data.user) throw errors.LOGIN_REQUIRED('Sign in to do this');
      checkCsrfToken(session, request.headers['x-csrf-token']);
    }
    let token = await tokens.forSession(session, request.log);
    let response = await forward(request, token);
    if (response.statusCode === 401 && token && session?.data.tokens?.refreshToken) {
      await response.body.dump();
      token = await tokens.forSession(session, request.log, true);
      response = await forward(request, token);
    }

    reply.code(response.statusCode);
    for (const name of RESPONSE_HEADERS) {
      const value = response.headers[name];
      if (value === undefined) continue;
      if (name === 'location' && typeof value === 'string') {
        const location = new URL(value, gateway);
        reply.header(
          name,
          location.origin === gateway.origin ? `${location.pathname}${location.search}` : value,
        );
      } else reply.header(name, value);
    }
    const upstreamId = response.headers['x-request-id'];
    if (typeof upstreamId === 'string') reply.header('x-upstream-request-id', upstreamId);
    // Answers made with someone's token are theirs: nothing is kept in the browser's cache
    // (a shared computer keeps no cart or order after sign-out).
    reply.header('cache-control', 'no-store');
    reply.header('vary', 'Cookie');
    return reply.send(response.body);
  }

  server.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/api/*',
    schema: { hide: true },
    handler,
  });
}
