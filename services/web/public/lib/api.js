// @ts-check
/**
 * The console's error for a failed answer (ApiError, with its problem+json body), and `api`, the
 * call to the console's own routes, which the gateway's document has not (`/api/session`,
 * `/api/console/*`): JSON both ways, the CSRF token on writes. The gateway's API
 * (`/api/v1/...`) is called through the typed client, ./gateway.js, which throws ApiError too.
 */
import { session } from './session.js';

/** @typedef {{ code?: string, title?: string, detail?: string, errors?: Array<{ message?: string }> }} Problem */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {unknown} body the answer's problem+json, if it had one
   */
  constructor(status, body) {
    const problem = /** @type {Problem | null | undefined} */ (body);
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    /** @type {Problem} */
    this.problem = problem ?? {};
    /** @type {string | null} seconds, from `retry-after` */
    this.retryAfter = null;
    /** @type {string | undefined} the trace that answered, with tracing on (W3C `traceresponse`) */
    this.traceId = undefined;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, headers?: Record<string, string> }} [options]
 * @returns {Promise<{ data: any, etag: string | null, location: string | null }>}
 */
export async function api(method, path, { body, headers = {} } = {}) {
  /** @type {Record<string, string>} */
  const sent = { accept: 'application/json', ...headers };
  if (method !== 'GET' && method !== 'HEAD') sent['x-csrf-token'] = session.csrf_token ?? '';
  /** @type {RequestInit} */
  const init = { method, headers: sent, credentials: 'same-origin' };
  if (body !== undefined) {
    sent['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const type = res.headers.get('content-type') ?? '';
  const data = res.status === 204 || !type.includes('json') ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    err.retryAfter = res.headers.get('retry-after');
    err.traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get('traceresponse') ?? '')?.[1];
    throw err;
  }
  return { data, etag: res.headers.get('etag'), location: res.headers.get('location') };
}

/**
 * `/api/v1/products?page=2&q=x` → `/products?page=2&q=x`: API links become console links.
 * @param {string | null | undefined} apiLink
 * @param {string} path
 */
export function consoleLink(apiLink, path) {
  if (!apiLink) return null;
  const url = new URL(apiLink, location.origin);
  return `${path}${url.search}`;
}
