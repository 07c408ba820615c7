// @ts-check
/** Failed requests in words for a person: the flash line, a box in the view, a trace link. */
import { ApiError } from './api.js';
import { flashBox, h } from './dom.js';
import { isAdmin, session } from './session.js';

/**
 * Words for a person, from a problem+json body or a failed fetch.
 * @param {unknown} err
 */
export function describe(err) {
  if (!(err instanceof ApiError))
    return 'The console cannot reach its server. Check your connection and try again.';
  const p = err.problem;
  const fields = Array.isArray(p.errors) ? p.errors.map((e) => e.message).filter(Boolean) : [];
  switch (err.status) {
    case 401:
      return session.authenticated
        ? 'Your sign-in has expired. Sign in again to continue.'
        : 'You need to sign in to do this.';
    case 402:
      return p.detail || 'The card was declined. Try another card.';
    case 403:
      return p.detail || 'You are not allowed to do this.';
    case 404:
      return p.detail || 'This was not found. It may have been deleted.';
    case 412:
      return 'Someone else changed this since you opened it. The page now shows the latest version; try again.';
    case 429: {
      const wait = err.retryAfter ? ` in ${err.retryAfter} seconds` : ' in a moment';
      return `Too many requests. Try again${wait}.`;
    }
    case 502:
    case 503:
    case 504:
      return p.detail || 'A service is not available right now. Try again in a moment.';
  }
  if (fields.length > 1) return `${p.detail || p.title}: ${fields.join('; ')}`;
  return p.detail || p.title || `The request failed (HTTP ${err.status}).`;
}

/**
 * An error for the flash line; a route that needs two-step sign-in offers to step up (RFC 9470).
 * @param {unknown} err
 */
export function flashError(err) {
  if (err instanceof ApiError && err.problem.code === 'INSUFFICIENT_USER_AUTHENTICATION') {
    const stepUp = new URLSearchParams({
      return_to: location.pathname + location.search,
      acr_values: 'urn:portico:acr:mfa',
    });
    flashBox.replaceChildren(
      h(
        'p',
        { class: 'flash-error' },
        `${describe(err)} `,
        h('a', { href: `/login?${stepUp}` }, 'Sign in again with two-step verification'),
      ),
    );
    return;
  }
  flashBox.replaceChildren(h('p', { class: 'flash-error' }, describe(err), traceLink(err)));
}

/** @param {unknown} err an error, or words */
export function errorBox(err) {
  return h(
    'div',
    { class: 'error', role: 'alert' },
    typeof err === 'string' ? err : describe(err),
    traceLink(err),
  );
}

/**
 * For an admin, a link from a failed request to its trace on the Requests page, when known.
 * @param {unknown} err
 */
function traceLink(err) {
  if (!(err instanceof ApiError) || !err.traceId || !isAdmin()) return null;
  return h(
    'span',
    {},
    ' ',
    h('a', { href: `/admin/requests/${err.traceId}`, class: 'trace-link' }, 'View its trace'),
  );
}
