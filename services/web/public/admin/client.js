// @ts-check
/**
 * The typed API client the admin views call the gateway with (../api/client.js), one for the
 * page, throwing the console's own ApiError so `flashError` and `describe` show its problems.
 * The console lends the views no CSRF token, so the client asks `/api/session` for it at the
 * first state-changing call; the token lasts the session, and a new session is a new page
 * (sign-in and sign-out are navigations).
 */
import { createApi } from '../api/client.js';

/** @import { Api } from '../api/client.js' */
/** @import { Kit } from './kit.js' */

/** @type {Api | undefined} */
let client;
/** @type {Promise<string> | undefined} */
let token;

function sessionCsrfToken() {
  token ??= fetch('/api/session', { headers: { accept: 'application/json' }, credentials: 'same-origin' })
    .then((res) => res.json())
    .then((/** @type {{ csrf_token?: string | null }} */ session) => session.csrf_token ?? '')
    .catch(() => {
      // Asked again at the next call; this one goes without and is refused with a problem.
      token = undefined;
      return '';
    });
  return token;
}

/** @param {Kit} kit */
export function adminClient(kit) {
  client ??= createApi({ ApiError: kit.ApiError, csrfToken: sessionCsrfToken });
  return client;
}
