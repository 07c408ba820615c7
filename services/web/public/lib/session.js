// @ts-check
/** @import { Session } from './types.js' */

/** Who is signed in, as `GET /api/session` said when the page loaded (views/banner.js). */
/** @type {Session} */
export let session = { authenticated: false, user: null, csrf_token: null };

/** @param {Session} next */
export function setSession(next) {
  session = next;
}

export function isAdmin() {
  return Boolean(session.user?.roles?.includes('admin'));
}
