/**
 * What the provider's mount answers beside the protocol: oidc-provider (a Koa app) leaves a
 * path or method it has no route for to Koa, whose answer is a bare `text/plain` "Not Found",
 * and an error that escapes its own handlers becomes a `text/plain` "Internal Server Error".
 * Here, around every request it gets:
 * - a path none of its routes takes is a 404 problem+json (NOT_FOUND), the identity's own 404;
 * - a method its routes do not take on a path they do is a 405 problem+json with `Allow`
 *   (RFC 9110 §15.5.6), a plain OPTIONS (no CORS preflight) a 204 with `Allow`;
 * - any other answer without a body (an error status nothing wrote) or an escaped error is a
 *   problem+json of its status (500 when it had none), unless the provider had already
 *   written a refusal of its own.
 * The methods of a path are asked of oidc-provider's own router, so they follow its `routes`
 * configuration and the features enabled; its GET routes take HEAD. What its routes answer
 * (OAuth error JSON, `WWW-Authenticate`, CORS preflights, HTML pages) passes untouched.
 */
import { REQUEST_ID_HEADER, toProblemError } from '@portico/http';
import { commonErrors, PROBLEM_CONTENT_TYPE, type ProblemError } from '@portico/problem';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The part of oidc-provider's router (lib/helpers/router.js) asked here. */
interface ProviderRouter {
  match(method: string, path: string): unknown;
}

/** Every method its router registers routes for (get/post/put/delete/options; GET takes HEAD). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'];

const FOUND = Symbol('router found');

/**
 * oidc-provider keeps its router private and hands it only to a request it routes
 * (`ctx.router`, the koa-router convention). Its dispatch is the app's last middleware
 * (`use` inserts before it): a stand-in request for discovery, which every configuration
 * routes, is stopped there the moment the router is handed over, before any route runs.
 */
export function providerRouter(provider: Provider): ProviderRouter {
  const dispatch = provider.middleware.at(-1) as (ctx: object, next: () => Promise<void>) => unknown;
  let found: ProviderRouter | undefined;
  const probe = {
    method: 'GET',
    path: '/.well-known/openid-configuration',
    set router(router: ProviderRouter) {
      found = router;
      throw FOUND;
    },
  };
  try {
    dispatch(probe, async () => {});
  } catch (err) {
    if (err !== FOUND) throw err;
  }
  if (typeof found?.match !== 'function')
    throw new Error('oidc-provider no longer hands its router to a routed request: see provider-edge.ts');
  return found;
}

export function providerEdge(router: ProviderRouter) {
  return async function providerEdgeMiddleware(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
    const methods = METHODS.filter((m) => router.match(m, ctx.path));
    if (methods.length === 0) return answer(ctx, commonErrors.NOT_FOUND(`No resource at ${ctx.path}`));
    const allow = [...new Set([...methods, 'OPTIONS'])].join(', ');
    if (!methods.includes(ctx.method)) {
      if (ctx.method === 'OPTIONS') return noContent(ctx, allow);
      return answer(
        ctx,
        commonErrors.METHOD_NOT_ALLOWED(`${ctx.method} is not allowed on ${ctx.path}`, {
          headers: { allow },
        }),
      );
    }
    try {
      await next();
    } catch (err) {
      if (ctx.headerSent) throw err;
      // A refusal the provider had already made stands: GET /device/<unknown uid> renders its
      // 400 page, then its session save (ensureSessionSave) throws on a session never stored.
      if (ctx.status >= 400 && ctx.status < 500 && ctx.body != null) return;
      ctx.app.emit('error', err, ctx);
      return answer(ctx, toProblemError(err));
    }
    if (ctx.body != null || ctx.status < 400) return;
    // oidc-provider's CORS middleware answers preflights only: a plain OPTIONS is left unanswered.
    if (ctx.method === 'OPTIONS' && ctx.status === 404) return noContent(ctx, allow);
    answer(
      ctx,
      ctx.status === 404
        ? commonErrors.NOT_FOUND(`No resource at ${ctx.path}`)
        : toProblemError({ statusCode: ctx.status, message: ctx.message }),
    );
  };
}

function noContent(ctx: KoaContextWithOIDC, allow: string) {
  ctx.status = 204;
  ctx.set('Allow', allow);
}

function answer(ctx: KoaContextWithOIDC, problem: ProblemError) {
  const id = ctx.res.getHeader(REQUEST_ID_HEADER);
  ctx.status = problem.status;
  for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
  ctx.set('Content-Type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
  ctx.body = JSON.stringify(problem.toProblem(typeof id === 'string' ? id : undefined, ctx.path));
}
