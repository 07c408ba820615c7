// @ts-check
/**
 * Which view shows which console path (routes.js lists the paths, for the server too), and
 * navigation without reloads: same-origin links and GET forms to a console path, back and
 * forward. The identity administration views (admin/*.js) get what they use of the console
 * as `kit`.
 */
/** @import { Kit } from './admin/kit.js' */
/** @import { ConsolePath } from './routes.js' */
import { auditView } from './admin/audit.js';
import { clientsView } from './admin/clients.js';
import { keysView } from './admin/keys.js';
import { mailboxView } from './admin/mailbox.js';
import { requestsView, traceView } from './admin/requests.js';
import { usersView, userView } from './admin/users.js';
import { ApiError, api } from './lib/api.js';
import { flash, flashBox, h, handledForm, main, render, table } from './lib/dom.js';
import { dateTime } from './lib/format.js';
import { gateway } from './lib/gateway.js';
import { onLiveProduct } from './lib/live.js';
import { navigate, showPagesWith } from './lib/navigation.js';
import { describe, errorBox, flashError } from './lib/problems.js';
import { isAdmin } from './lib/session.js';
import { CONSOLE_PATHS, pathPattern } from './routes.js';
import { cartView } from './views/cart.js';
import { catalogView } from './views/catalog.js';
import { dashboardView } from './views/dashboard.js';
import { newProductView } from './views/new-product.js';
import { orderView } from './views/order.js';
import { ordersView } from './views/orders.js';
import { productView } from './views/product.js';

/** @type {Kit} */
const kit = {
  h,
  handledForm,
  render,
  table,
  flash,
  flashError,
  describe,
  api,
  gateway,
  ApiError,
  dateTime,
  navigate,
  isAdmin,
};

/** @typedef {(params: URLSearchParams, id: string) => Promise<void>} View */

/** A view for every console path, and only for those (tsc holds the two to each other). */
/** @type {Record<ConsolePath, View>} */
const VIEWS = {
  '/': (p) => catalogView(p),
  '/products': (p) => catalogView(p),
  '/products/:id': (_p, id) => productView(id),
  '/cart': () => cartView(),
  '/orders': (p) => ordersView(p),
  '/orders/:id': (_p, id) => orderView(id),
  '/dashboard': () => dashboardView(),
  '/admin/products/new': () => newProductView(),
  '/admin/users': (p) => usersView(kit, p),
  '/admin/users/:id': (_p, id) => userView(kit, id),
  '/admin/clients': (p) => clientsView(kit, p),
  '/admin/keys': () => keysView(kit),
  '/admin/requests': (p) => requestsView(kit, p),
  '/admin/requests/:id([0-9a-f]{32})': (_p, id) => traceView(kit, id),
  '/admin/audit': () => auditView(kit),
  '/admin/mailbox': () => mailboxView(kit),
};

const ROUTES = CONSOLE_PATHS.map((path) => /** @type {const} */ ([pathPattern(path), VIEWS[path]]));

/**
 * The view for a URL's path, its parameter decoded; null when the path is no console page.
 * @param {string} pathname
 * @returns {((params: URLSearchParams) => Promise<void>) | null}
 */
function routeFor(pathname) {
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(pathname);
    if (match) return (params) => view(params, decodeURIComponent(match[1] ?? ''));
  }
  return null;
}

let shown = '';

/** @param {boolean} focus move focus to the new view's heading */
async function show(focus) {
  shown = location.pathname + location.search;
  onLiveProduct(null);
  const view = routeFor(location.pathname);
  main.setAttribute('aria-busy', 'true');
  try {
    if (view) await view(new URLSearchParams(location.search));
    else
      render('Not found', h('p', {}, 'There is no page here. ', h('a', { href: '/' }, 'Go to the catalog')));
  } catch (err) {
    render('Something went wrong', errorBox(err));
  } finally {
    main.removeAttribute('aria-busy');
  }
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === location.pathname) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (focus) main.querySelector('h1')?.focus();
}

/** Shows the page for the current URL, and from then on every console page the user goes to. */
export function startRouter() {
  showPagesWith(show);

  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (
      !(link instanceof HTMLAnchorElement) ||
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey
    )
      return;
    const url = new URL(link.href, location.origin);
    if (url.origin !== location.origin || !routeFor(url.pathname)) return;
    // An anchor on this page (the skip link) moves focus; it is not a navigation.
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    event.preventDefault();
    if (!link.closest('#flash')) flashBox.replaceChildren();
    navigate(url.pathname + url.search);
  });

  // Search and filter forms (GET) navigate inside the console.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== 'get' || event.defaultPrevented) return;
    const url = new URL(form.action, location.origin);
    if (!routeFor(url.pathname)) return;
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value !== '') query.set(key, String(value));
    navigate(`${url.pathname}${query.size ? `?${query}` : ''}`);
  });

  // Back/forward re-renders the view; a jump to an anchor on the same page (the skip link) fires
  // popstate too, and must leave the page, and the user's place in it, alone.
  window.addEventListener('popstate', () => {
    if (location.pathname + location.search !== shown) show(true);
  });

  return show(false);
}
