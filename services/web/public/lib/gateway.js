// @ts-check
/**
 * The one typed client the console calls the gateway's API with (`/api/v1/...`), built once
 * for the page with the session's CSRF token (../api/client.js: its paths, parameters and
 * answers are the gateway's published contract, so a view reading a field the contract no
 * longer has fails tsc). The console's own routes (`/api/session`, `/api/console/*`) are not
 * in that contract and stay on `api` (./api.js).
 */
import { createApi } from '../api/client.js';
import { ApiError } from './api.js';
import { session } from './session.js';

export { data } from '../api/client.js';

/** @import { Action } from './types.js' */

/** `session` is read at each write: the token of the session the page loaded (views/banner.js). */
export const gateway = createApi({ ApiError, csrfToken: () => session.csrf_token ?? '' });

/**
 * Sends a hypermedia action the way the answer that offered it says (`GET
 * /api/v1/products/{id}/actions`): its method, its href and the body. Which path it names is
 * the API's to choose, so this call alone is not typed by path; the views read nothing of its
 * answer, only whether it failed (the same ApiError as every other call).
 * @param {Action} action
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export async function follow(action, body, headers) {
  // A concrete href has no `{param}` for the client to fill: it is sent as it is.
  const send =
    /** @type {(method: string, href: string, init: { body: unknown, headers?: Record<string, string> }) => Promise<unknown>} */ (
      gateway.request
    );
  await send(action.method, action.href, { body, headers });
}
