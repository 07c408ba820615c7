// @ts-check
/**
 * The console's typed client for the API the gateway publishes: openapi-fetch over the types
 * generated from the gateway's merged OpenAPI document (schema.generated.d.ts, written by
 * `npm run api-types -w services/web`), so a call to a path, a parameter or a field the contract
 * no longer has fails `tsc`. Its middleware keeps what the console's calls always did: JSON
 * asked for, the session's CSRF token on every state-changing call, and any answer but a
 * success thrown as the console's ApiError (its problem+json, Retry-After and the trace that
 * answered), which the views show as before (a 401 reads "Your sign-in has expired").
 */
import createClient from '../vendor/openapi-fetch.js';

/** @import { Client, Middleware } from '../vendor/openapi-fetch.js' */
/** @import { paths } from './schema.generated.js' */

/** @typedef {Client<paths>} Api */

/**
 * What a failed call throws: the console's own error class, so its views recognise it.
 * @typedef {new (status: number, problem: unknown) => Error & { retryAfter?: string | null, traceId?: string }} ApiErrorClass
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * @param {object} options
 * @param {ApiErrorClass} options.ApiError
 * @param {() => string | Promise<string>} options.csrfToken the session's token for state-changing calls
 * @returns {Api}
 */
export function createApi({ ApiError, csrfToken }) {
  /** @type {Api} */
  const api = createClient({ headers: { accept: 'application/json' }, credentials: 'same-origin' });
  api.use(withCsrfToken(csrfToken), problemsThrown(ApiError));
  return api;
}

/**
 * @param {() => string | Promise<string>} csrfToken
 * @returns {Middleware}
 */
function withCsrfToken(csrfToken) {
  return {
    async onRequest({ request }) {
      if (!SAFE_METHODS.has(request.method)) request.headers.set('x-csrf-token', await csrfToken());
      return request;
    },
  };
}

/**
 * @param {ApiErrorClass} ApiError
 * @returns {Middleware}
 */
function problemsThrown(ApiError) {
  return {
    async onResponse({ response }) {
      if (response.ok) return undefined;
      const type = response.headers.get('content-type') ?? '';
      const problem =
        response.status === 204 || !type.includes('json') ? null : await response.json().catch(() => null);
      const err = new ApiError(response.status, problem);
      err.retryAfter = response.headers.get('retry-after');
      // With tracing on, the console says which trace answered (W3C `traceresponse`).
      err.traceId = /^00-([0-9a-f]{32})-/.exec(response.headers.get('traceresponse') ?? '')?.[1];
      throw err;
    },
  };
}

/**
 * What a call answered. The middleware has thrown for anything but a success, so only the
 * success's type is left: this narrows it, nothing more.
 * @template T
 * @param {Promise<{ data?: T }>} call
 * @returns {Promise<T>}
 */
export async function data(call) {
  return /** @type {T} */ ((await call).data);
}
