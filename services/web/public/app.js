/**
 * The Portico console: plain JavaScript, no build step. Everything goes through the
 * console's own origin: `/api/*` (the BFF adds the access token), `/events/products`
 * (live changes), `/login` and `/logout`. Views are built with DOM calls, never HTML
 * strings, so API data cannot inject markup. The identity administration views are modules
 * of their own (admin/*.js, type-checked), given what they use of the console as `kit`.
 */

import { auditView } from './admin/audit.js';
import { clientsView } from './admin/clients.js';
import { keysView } from './admin/keys.js';
import { mailboxView } from './admin/mailbox.js';
import { requestsView, traceView } from './admin/requests.js';
import { usersView, userView } from './admin/users.js';

const main = document.getElementById('main');
const flashBox = document.getElementById('flash');
let session = { authenticated: false, user: null, csrf_token: null };
/** The current view's handler for live product changes. */
let onProduct = null;

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function render(title, ...children) {
  document.title = `${title} · Portico`;
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, title),
    ...children.filter((c) => c !== null && c !== undefined && c !== false),
  );
}

function flash(message, kind = 'info') {
  flashBox.replaceChildren(h('p', { class: `flash-${kind}` }, message));
}

/** An error for the flash line; a route that needs two-step sign-in offers to step up (RFC 9470). */
function flashError(err) {
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

function errorBox(err) {
  return h(
    'div',
    { class: 'error', role: 'alert' },
    typeof err === 'string' ? err : describe(err),
    traceLink(err),
  );
}

/** For an admin, a link from a failed request to its trace on the Requests page, when known. */
function traceLink(err) {
  if (!(err instanceof ApiError) || !err.traceId || !isAdmin()) return null;
  return h(
    'span',
    {},
    ' ',
    h('a', { href: `/admin/requests/${err.traceId}`, class: 'trace-link' }, 'View its trace'),
  );
}

function money(amount, currency = 'USD') {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

function humanize(name) {
  const text = String(name).replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function dateTime(value) {
  return value ? new Date(value).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

// ---------------------------------------------------------------- API calls

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
  }
}

/** Words for a person, from a problem+json body or a failed fetch. */
function describe(err) {
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

async function api(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') init.headers['x-csrf-token'] = session.csrf_token ?? '';
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const type = res.headers.get('content-type') ?? '';
  const data = res.status === 204 || !type.includes('json') ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    err.retryAfter = res.headers.get('retry-after');
    // With tracing on the console says which trace answered (W3C `traceresponse`).
    err.traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get('traceresponse') ?? '')?.[1];
    throw err;
  }
  return { data, etag: res.headers.get('etag'), location: res.headers.get('location') };
}

/** `/api/v1/products?page=2&q=x` → `/products?page=2&q=x`: API links become console links. */
function consoleLink(apiLink, path) {
  if (!apiLink) return null;
  const url = new URL(apiLink, location.origin);
  return `${path}${url.search}`;
}

// ---------------------------------------------------------------- session and header

async function loadSession() {
  try {
    session = (await api('GET', '/api/session')).data;
  } catch {
    session = { authenticated: false, user: null, csrf_token: null };
  }
  const account = document.getElementById('account');
  if (session.authenticated) {
    const user = session.user;
    account.replaceChildren(
      h('span', { class: 'who' }, `Signed in as ${user.name || user.username || user.sub}`),
      // Managed at the identity service's own pages (the server sends the browser there).
      user.amr?.includes('mfa')
        ? h('span', { class: 'who' }, 'Two-step sign-in on')
        : h('a', { href: '/account/two-step' }, 'Two-step sign-in'),
      h('a', { href: '/account/security' }, 'Sign-in methods'),
      h(
        'form',
        { method: 'post', action: '/logout', class: 'inline' },
        h('input', { type: 'hidden', name: 'csrf', value: session.csrf_token }),
        h('button', { type: 'submit', class: 'secondary' }, 'Sign out'),
      ),
    );
  } else {
    account.replaceChildren(
      h(
        'a',
        {
          class: 'button',
          href: `/login?return_to=${encodeURIComponent(location.pathname + location.search)}`,
        },
        'Sign in',
      ),
    );
  }
  const nav = document.getElementById('nav');
  for (const item of nav.querySelectorAll('.admin')) item.remove();
  if (isAdmin())
    nav.append(
      h('li', { class: 'admin' }, h('a', { href: '/admin/products/new' }, 'New product')),
      h('li', { class: 'admin' }, h('a', { href: '/admin/users' }, 'Users')),
      h('li', { class: 'admin' }, h('a', { href: '/admin/requests' }, 'Requests')),
    );
}

function isAdmin() {
  return Boolean(session.user?.roles?.includes('admin'));
}

function signInPrompt(what) {
  return h(
    'p',
    {},
    `Sign in to ${what}. `,
    h('a', { class: 'button', href: `/login?return_to=${encodeURIComponent(location.pathname)}` }, 'Sign in'),
  );
}

// ---------------------------------------------------------------- live changes

function connectLive() {
  const status = document.getElementById('live-status');
  const source = new EventSource('/events/products');
  source.addEventListener('ready', () => {
    status.textContent = 'Live updates: on';
    document.body.dataset.live = 'on';
  });
  source.addEventListener('product', (event) => {
    const product = JSON.parse(event.data);
    onProduct?.(product);
  });
  source.addEventListener('problem', () => {
    status.textContent = 'Live updates: unavailable, retrying…';
    document.body.dataset.live = 'off';
  });
  source.onerror = () => {
    status.textContent = 'Live updates: reconnecting…';
    document.body.dataset.live = 'off';
  };
}

/** Updates every price and stock shown for this product, wherever it is on the page. */
function applyLive(product) {
  for (const el of document.querySelectorAll(`[data-price-for="${CSS.escape(product.id)}"]`)) {
    el.textContent = product.formattedPrice ?? money(product.price, product.currency);
  }
  for (const el of document.querySelectorAll(`[data-stock-for="${CSS.escape(product.id)}"]`)) {
    el.textContent = product.inStock ? 'In stock' : 'Out of stock';
  }
}

// ---------------------------------------------------------------- views

async function catalogView(params) {
  const q = params.get('q') ?? '';
  const inStock = params.get('in_stock') === 'true';
  const categoryId = params.get('category_id') ?? '';
  const query = new URLSearchParams({ page: params.get('page') ?? '1', per_page: '12' });
  if (q) query.set('q', q);
  if (inStock) query.set('in_stock', 'true');
  if (categoryId) query.set('category_id', categoryId);

  const [list, categories] = await Promise.allSettled([
    api('GET', `/api/v1/products?${query}`),
    api('GET', '/api/v1/categories?per_page=100'),
  ]);
  const categoryOptions = categories.status === 'fulfilled' ? categories.value.data.data : [];
  const names = new Map(categoryOptions.map((c) => [c.id, c.name]));

  const form = h(
    'form',
    { role: 'search', class: 'filters', action: '/products', method: 'get' },
    h(
      'div',
      { class: 'field grow' },
      h('label', { for: 'q' }, 'Search products'),
      h('input', { id: 'q', name: 'q', type: 'search', value: q, placeholder: 'Name or description' }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'category' }, 'Category'),
      h(
        'select',
        { id: 'category', name: 'category_id' },
        h('option', { value: '' }, 'All categories'),
        categoryOptions.map((c) => h('option', { value: c.id, selected: c.id === categoryId }, c.name)),
      ),
    ),
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'in_stock', value: 'true', checked: inStock }),
      ' In stock only',
    ),
    h('button', { type: 'submit' }, 'Search'),
  );

  if (list.status === 'rejected') return render('Catalog', form, errorBox(list.reason));
  const { data: products, pagination, links } = list.value.data;
  const pages = Math.max(1, Math.ceil(pagination.total / pagination.per_page));
  const summary = h(
    'p',
    { class: 'summary' },
    pagination.total === 0
      ? q
        ? `No products match “${q}”.`
        : 'No products here.'
      : `${pagination.total} product${pagination.total === 1 ? '' : 's'} · page ${pagination.page} of ${pages}`,
  );
  const items = h(
    'ul',
    { class: 'cards' },
    products.map((p) =>
      h(
        'li',
        { class: 'card' },
        h('h2', {}, h('a', { href: `/products/${encodeURIComponent(p.id)}` }, p.name)),
        h('p', { class: 'muted' }, names.get(p.category_id) ?? ''),
        h('p', { class: 'price', dataset: { priceFor: p.id } }, money(p.price, p.currency)),
        h('p', { class: 'stock', dataset: { stockFor: p.id } }, p.in_stock ? 'In stock' : 'Out of stock'),
      ),
    ),
  );
  const prev = consoleLink(links.previous, '/products');
  const next = consoleLink(links.next, '/products');
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    prev ? h('a', { href: prev, rel: 'prev' }, '← Previous') : h('span', { class: 'muted' }, '← Previous'),
    next ? h('a', { href: next, rel: 'next' }, 'Next →') : h('span', { class: 'muted' }, 'Next →'),
  );
  render('Catalog', form, summary, items, pager);
  onProduct = applyLive;
}

const ACTION_LABELS = {
  add_to_cart: 'Add to cart',
  mark_out_of_stock: 'Mark out of stock',
  mark_in_stock: 'Mark in stock',
  update: 'Edit',
  delete: 'Delete',
};

async function productView(id, opts = {}) {
  let result;
  let etag = null;
  try {
    const [actions, current] = await Promise.all([
      api('GET', `/api/v1/products/${encodeURIComponent(id)}/actions`),
      api('GET', `/api/v1/products/${encodeURIComponent(id)}`, { headers: { 'cache-control': 'no-cache' } }),
    ]);
    result = actions.data;
    etag = current.etag;
  } catch (err) {
    return render('Product', errorBox(err), h('p', {}, h('a', { href: '/products' }, 'Back to the catalog')));
  }
  const { data: product, actions } = result;
  const status = h(
    'div',
    { class: 'action-status', role: 'status', 'aria-live': 'polite' },
    opts.message ?? '',
  );
  const panel = h('div', { class: 'panel' });

  async function run(action, body, button) {
    if (action.method === 'DELETE' && !confirm(`Delete “${product.name}”? This cannot be undone.`)) return;
    button?.setAttribute('aria-busy', 'true');
    if (button) button.disabled = true;
    // Our own change comes back as a live event too: this page re-reads the product itself.
    const live = onProduct;
    if (action.name !== 'add_to_cart') onProduct = null;
    const headers =
      etag && action.href.startsWith('/api/v1/products/') && action.method !== 'POST'
        ? { 'if-match': etag }
        : {};
    try {
      await api(action.method, action.href, { body, headers });
      if (action.name === 'delete') {
        flash(`“${product.name}” was deleted.`);
        return navigate('/products');
      }
      const words = {
        add_to_cart: `Added ${body?.quantity ?? 1} × “${product.name}” to your cart.`,
        update: 'Saved.',
        mark_out_of_stock: 'Marked out of stock.',
        mark_in_stock: 'Marked in stock.',
      };
      await productView(id, { message: words[action.name] ?? `${humanize(action.name)}: done.` });
    } catch (err) {
      onProduct = live;
      status.replaceChildren(errorBox(err));
      if (err instanceof ApiError && err.status === 412) await productView(id, { message: describe(err) });
    } finally {
      button?.removeAttribute('aria-busy');
      if (button) button.disabled = false;
    }
  }

  const buttons = actions.map((action) => {
    const label = ACTION_LABELS[action.name] ?? humanize(action.name);
    if (action.name === 'add_to_cart') {
      const qty = h('input', {
        id: 'quantity',
        type: 'number',
        min: '1',
        max: '99',
        value: String(action.body?.quantity ?? 1),
        inputmode: 'numeric',
      });
      const button = h('button', { type: 'submit', dataset: { action: action.name } }, label);
      return h(
        'form',
        {
          class: 'inline',
          onsubmit: (e) => {
            e.preventDefault();
            run(action, { ...action.body, quantity: Number(qty.value) || 1 }, button);
          },
        },
        h('label', { for: 'quantity' }, 'Quantity '),
        qty,
        button,
      );
    }
    if (action.name === 'update') {
      return h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          dataset: { action: action.name },
          onclick: () => {
            panel.replaceChildren(
              productForm(action.body ?? product, (body, button) => run(action, body, button)),
            );
            panel.querySelector('input')?.focus();
          },
        },
        label,
      );
    }
    const button = h(
      'button',
      {
        type: 'button',
        class: action.method === 'DELETE' ? 'danger' : 'secondary',
        dataset: { action: action.name },
        onclick: () => run(action, action.body, button),
      },
      label,
    );
    return button;
  });

  render(
    product.name,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Price'),
      h('dd', { class: 'price', dataset: { priceFor: product.id } }, money(product.price, product.currency)),
      h('dt', {}, 'Availability'),
      h('dd', { dataset: { stockFor: product.id } }, product.in_stock ? 'In stock' : 'Out of stock'),
      h('dt', {}, 'Description'),
      h('dd', {}, product.description || '—'),
    ),
    h(
      'div',
      { class: 'actions', 'aria-label': 'Actions' },
      buttons.length
        ? buttons
        : h(
            'p',
            { class: 'muted' },
            session.authenticated ? 'Nothing to do with this product right now.' : '',
          ),
    ),
    status,
    panel,
    h('p', {}, h('a', { href: '/products' }, '← Back to the catalog')),
  );
  onProduct = (p) => {
    if (p.id !== product.id) return;
    const before = main.querySelector(`[data-price-for="${CSS.escape(p.id)}"]`)?.textContent;
    applyLive(p);
    const after = p.formattedPrice ?? money(p.price, p.currency);
    if (before !== after) status.replaceChildren(`The price is now ${after}.`);
    // What may be done depends on the stock: ask for the actions again (unless a form is open).
    if (p.inStock !== product.in_stock && !panel.hasChildNodes()) {
      productView(id, { message: p.inStock ? 'Back in stock.' : 'Now out of stock.' });
    }
  };
  if (opts.message) status.focus?.();
}

/** The create/edit form; `initial` is a product as the API serialises it. */
function productForm(initial, onSave) {
  const error = h('div', { role: 'alert' });
  const categorySelect = h('select', { id: 'p-category', name: 'category_id', required: true });
  api('GET', '/api/v1/categories?per_page=100')
    .then(({ data }) => {
      categorySelect.replaceChildren(
        ...data.data.map((c) => h('option', { value: c.id, selected: c.id === initial.category_id }, c.name)),
      );
    })
    .catch((err) => error.replaceChildren(errorBox(err)));
  const save = h('button', { type: 'submit' }, 'Save');
  const form = h(
    'form',
    {
      class: 'stack',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const price = String(f.get('price')).trim();
        const body = {
          ...initial,
          name: String(f.get('name')),
          description: String(f.get('description')),
          price: /^-?\d+(\.\d+)?$/.test(price) ? Number(price) : price,
          category_id: String(f.get('category_id')),
          in_stock: f.get('in_stock') === 'on',
        };
        error.replaceChildren();
        await onSave(body, save, error);
      },
    },
    h('label', { for: 'p-name' }, 'Name'),
    h('input', { id: 'p-name', name: 'name', required: true, maxlength: '200', value: initial.name ?? '' }),
    h('label', { for: 'p-description' }, 'Description'),
    h(
      'textarea',
      { id: 'p-description', name: 'description', rows: '3', maxlength: '5000' },
      initial.description ?? '',
    ),
    h('label', { for: 'p-price' }, 'Price'),
    h('input', {
      id: 'p-price',
      name: 'price',
      inputmode: 'decimal',
      required: true,
      value: initial.price ?? '',
    }),
    h('label', { for: 'p-category' }, 'Category'),
    categorySelect,
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'in_stock', checked: initial.in_stock !== false }),
      ' In stock',
    ),
    error,
    save,
  );
  return form;
}

async function newProductView() {
  if (!isAdmin()) return render('New product', h('p', {}, 'Only administrators can create products.'));
  const form = productForm({ in_stock: true }, async (body, button, error) => {
    button.disabled = true;
    try {
      const { data } = await api('POST', '/api/v1/products', { body });
      flash(`“${data.data.name}” was created.`);
      navigate(`/products/${encodeURIComponent(data.data.id)}`);
    } catch (err) {
      error.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  render('New product', form);
}

async function cartView() {
  if (!session.authenticated) return render('Cart', signInPrompt('see your cart'));
  let cart;
  try {
    cart = (await api('GET', '/api/v1/cart')).data;
  } catch (err) {
    return render('Cart', errorBox(err));
  }
  const { items, subtotal, currency } = cart.data;
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  if (items.length === 0) {
    return render(
      'Cart',
      h('p', {}, 'Your cart is empty. ', h('a', { href: '/products' }, 'Browse the catalog')),
    );
  }
  const rows = items.map((item) => {
    const qty = h('input', {
      type: 'number',
      min: '1',
      max: '99',
      value: String(item.quantity),
      'aria-label': `Quantity of ${item.name}`,
    });
    return h(
      'tr',
      {},
      h(
        'th',
        { scope: 'row' },
        h('a', { href: `/products/${encodeURIComponent(item.product_id)}` }, item.name),
      ),
      h('td', { 'data-label': 'Price' }, money(item.unit_price, item.currency)),
      h(
        'td',
        { 'data-label': 'Quantity' },
        h(
          'form',
          {
            class: 'inline',
            onsubmit: async (e) => {
              e.preventDefault();
              try {
                await api('PATCH', item.links.self, { body: { quantity: Number(qty.value) } });
                await cartView();
              } catch (err) {
                status.replaceChildren(errorBox(err));
              }
            },
          },
          qty,
          h('button', { type: 'submit', class: 'secondary' }, 'Update'),
        ),
      ),
      h('td', { 'data-label': 'Total' }, money(item.line_total, item.currency)),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              try {
                await api('DELETE', item.links.self);
                await cartView();
              } catch (err) {
                status.replaceChildren(errorBox(err));
              }
            },
          },
          `Remove`,
        ),
      ),
    );
  });
  const checkout = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        checkout.disabled = true;
        try {
          const { data } = await api('POST', cart.links.checkout);
          flash('Order placed. Pay for it below.');
          navigate(`/orders/${encodeURIComponent(data.data.id)}`);
        } catch (err) {
          status.replaceChildren(errorBox(err));
          checkout.disabled = false;
        }
      },
    },
    'Check out',
  );
  render(
    'Cart',
    h(
      'table',
      { class: 'table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Product'),
          h('th', {}, 'Price'),
          h('th', {}, 'Quantity'),
          h('th', {}, 'Total'),
          h('th', {}, h('span', { class: 'sr-only' }, 'Remove')),
        ),
      ),
      h('tbody', {}, rows),
    ),
    h('p', { class: 'total' }, `Subtotal: ${money(subtotal, currency ?? 'USD')}`),
    status,
    checkout,
  );
}

function orderRow(order) {
  return h(
    'tr',
    {},
    h(
      'th',
      { scope: 'row' },
      h('a', { href: `/orders/${encodeURIComponent(order.id)}` }, `Order ${order.id.slice(-8)}`),
    ),
    h('td', { 'data-label': 'Placed' }, dateTime(order.created_at)),
    h('td', { 'data-label': 'Status' }, h('span', { class: `badge badge-${order.status}` }, order.status)),
    h('td', { 'data-label': 'Total' }, money(order.total, order.currency)),
  );
}

function ordersTable(orders) {
  return h(
    'table',
    { class: 'table' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'Order'), h('th', {}, 'Placed'), h('th', {}, 'Status'), h('th', {}, 'Total')),
    ),
    h('tbody', {}, orders.map(orderRow)),
  );
}

async function ordersView(params) {
  if (!session.authenticated) return render('My orders', signInPrompt('see your orders'));
  const page = params.get('page') ?? '1';
  let list;
  try {
    list = (
      await api(
        'GET',
        `/api/v1/orders?user_id=${encodeURIComponent(session.user.sub)}&page=${encodeURIComponent(page)}&limit=10`,
      )
    ).data;
  } catch (err) {
    return render('My orders', errorBox(err));
  }
  if (list.data.length === 0)
    return render(
      'My orders',
      h('p', {}, 'No orders yet. ', h('a', { href: '/products' }, 'Browse the catalog')),
    );
  const prev = consoleLink(list.links.previous, '/orders');
  const next = consoleLink(list.links.next, '/orders');
  render(
    'My orders',
    ordersTable(list.data),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      prev ? h('a', { href: prev, rel: 'prev' }, '← Newer') : h('span', { class: 'muted' }, '← Newer'),
      next ? h('a', { href: next, rel: 'next' }, 'Older →') : h('span', { class: 'muted' }, 'Older →'),
    ),
  );
}

async function orderView(id, opts = {}) {
  if (!session.authenticated) return render('Order', signInPrompt('see this order'));
  let order;
  try {
    order = (await api('GET', `/api/v1/orders/${encodeURIComponent(id)}`)).data.data;
  } catch (err) {
    return render('Order', errorBox(err));
  }
  const status = h('div', { role: 'status', 'aria-live': 'polite' }, opts.message ?? '');
  const parts = [
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Status'),
      h('dd', {}, h('span', { class: `badge badge-${order.status}`, id: 'order-status' }, order.status)),
      h('dt', {}, 'Placed'),
      h('dd', {}, dateTime(order.created_at)),
      h('dt', {}, 'Total'),
      h('dd', { class: 'price' }, money(order.total, order.currency)),
    ),
    h(
      'table',
      { class: 'table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Product'),
          h('th', {}, 'Price'),
          h('th', {}, 'Quantity'),
          h('th', {}, 'Total'),
        ),
      ),
      h(
        'tbody',
        {},
        order.items.map((item) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, item.name),
            h('td', { 'data-label': 'Price' }, money(item.unit_price, order.currency)),
            h('td', { 'data-label': 'Quantity' }, String(item.quantity)),
            h('td', { 'data-label': 'Total' }, money(item.line_total, order.currency)),
          ),
        ),
      ),
    ),
    status,
  ];
  if (order.status === 'pending' && order.links.pay) {
    // A payment may already be under way for this order (another tab, an earlier visit).
    const intents = opts.paymentAccepted
      ? []
      : await api('GET', `${order.links.pay}?order_id=${encodeURIComponent(order.id)}`)
          .then(({ data }) => data.data ?? [])
          .catch(() => []);
    const settled = intents.find((i) => i.status === 'succeeded' || i.status === 'processing');
    if (opts.paymentAccepted || settled) {
      const card = settled?.card ? ` (card ending ${settled.card.last4})` : '';
      parts.push(
        h('p', { class: 'muted' }, `Payment received${card}; the order will show as paid in a moment.`),
      );
    } else {
      parts.push(
        paymentForm(
          order,
          status,
          intents.find((i) => i.links?.confirm),
        ),
      );
    }
  }
  if (order.links.cancel) {
    const cancel = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          if (!confirm('Cancel this order?')) return;
          try {
            await api('POST', order.links.cancel);
            await orderView(id, { message: 'The order was cancelled.' });
          } catch (err) {
            status.replaceChildren(errorBox(err));
          }
        },
      },
      'Cancel order',
    );
    parts.push(h('p', {}, cancel));
  }
  render(`Order ${order.id.slice(-8)}`, ...parts);
}

/**
 * Payment with a test card, following the order's `pay` link: a payment intent for the
 * order, then its `confirm` link with the card. Each POST carries an Idempotency-Key; a
 * retry after a lost answer (network error, 504) reuses it, a new attempt gets a new one.
 */
function paymentForm(order, status, existing) {
  const createKey = crypto.randomUUID();
  let confirmKey = crypto.randomUUID();
  let intent = existing ?? null;
  const pay = h('button', { type: 'submit' }, `Pay ${money(order.total, order.currency)}`);
  const form = h(
    'form',
    {
      class: 'stack payment',
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const [month, year] = String(f.get('expiry'))
          .split('/')
          .map((s) => Number(s.trim()));
        pay.disabled = true;
        pay.setAttribute('aria-busy', 'true');
        status.replaceChildren('Paying…');
        try {
          if (!intent?.links?.confirm) {
            const created = await api('POST', order.links.pay, {
              headers: { 'idempotency-key': createKey },
              body: { order_id: order.id },
            });
            intent = created.data.data;
          }
          const confirmed = await api('POST', intent.links.confirm, {
            headers: { 'idempotency-key': confirmKey },
            body: {
              card: {
                number: String(f.get('number')).replace(/[\s-]/g, ''),
                exp_month: month || 0,
                exp_year: year < 100 ? 2000 + year : year || 0,
                cvc: String(f.get('cvc')).trim(),
              },
            },
          });
          intent = confirmed.data.data;
          // The payments service tells the orders service; give it a moment to show as paid.
          let paid = false;
          for (let i = 0; i < 10 && !paid; i++) {
            const current = await api('GET', `/api/v1/orders/${encodeURIComponent(order.id)}`).catch(
              () => null,
            );
            paid = current?.data?.data?.status !== 'pending';
            if (!paid) await new Promise((r) => setTimeout(r, 500));
          }
          await orderView(order.id, {
            message: 'Payment accepted. Thank you!',
            paymentAccepted: true,
          });
        } catch (err) {
          const lost = !(err instanceof ApiError) || err.status === 504;
          if (!lost) confirmKey = crypto.randomUUID();
          status.replaceChildren(errorBox(err));
          pay.disabled = false;
          pay.removeAttribute('aria-busy');
        }
      },
    },
    h('h2', {}, 'Pay'),
    h('p', { class: 'muted' }, 'Test card: 4242 4242 4242 4242, any future expiry, any CVC.'),
    h('label', { for: 'card-number' }, 'Card number'),
    h('input', {
      id: 'card-number',
      name: 'number',
      inputmode: 'numeric',
      autocomplete: 'cc-number',
      required: true,
      value: '4242 4242 4242 4242',
    }),
    h('label', { for: 'card-expiry' }, 'Expiry (MM/YY)'),
    h('input', {
      id: 'card-expiry',
      name: 'expiry',
      autocomplete: 'cc-exp',
      required: true,
      value: `12/${String((new Date().getFullYear() + 3) % 100).padStart(2, '0')}`,
    }),
    h('label', { for: 'card-cvc' }, 'CVC'),
    h('input', {
      id: 'card-cvc',
      name: 'cvc',
      inputmode: 'numeric',
      autocomplete: 'cc-csc',
      required: true,
      value: '123',
    }),
    pay,
  );
  return form;
}

async function dashboardView() {
  if (!session.authenticated) return render('Dashboard', signInPrompt('see your dashboard'));
  let board;
  try {
    board = (await api('GET', '/api/v1/dashboard')).data;
  } catch (err) {
    return render('Dashboard', errorBox(err));
  }
  const unavailable = (what) => h('p', { class: 'muted' }, `${what} are not available right now.`);
  const profile = board.user_profile?.data ?? board.user_profile;
  const orders = board.recent_orders?.data ?? board.recent_orders;
  const recs = board.recommendations?.data ?? board.recommendations;
  render(
    'Dashboard',
    h(
      'section',
      { 'aria-labelledby': 'd-profile' },
      h('h2', { id: 'd-profile' }, 'Profile'),
      profile
        ? h(
            'p',
            {},
            [profile.name ?? profile.display_name ?? session.user.name, profile.email]
              .filter(Boolean)
              .join(' · '),
          )
        : unavailable('Profile details'),
    ),
    h(
      'section',
      { 'aria-labelledby': 'd-orders' },
      h('h2', { id: 'd-orders' }, 'Recent orders'),
      Array.isArray(orders)
        ? orders.length
          ? ordersTable(orders)
          : h('p', {}, 'No orders yet.')
        : unavailable('Orders'),
    ),
    h(
      'section',
      { 'aria-labelledby': 'd-recs' },
      h('h2', { id: 'd-recs' }, 'Recommended for you'),
      Array.isArray(recs)
        ? recs.length
          ? h(
              'ul',
              { class: 'cards' },
              recs.map((p) =>
                h(
                  'li',
                  { class: 'card' },
                  h('h3', {}, h('a', { href: `/products/${encodeURIComponent(p.id)}` }, p.name)),
                  h('p', { class: 'price', dataset: { priceFor: p.id } }, money(p.price, p.currency)),
                ),
              ),
            )
          : h('p', {}, 'Nothing to recommend yet.')
        : unavailable('Recommendations'),
    ),
    board.errors && Object.keys(board.errors).length
      ? h(
          'p',
          { class: 'muted' },
          'Some parts of the dashboard could not be loaded; they may appear on the next visit.',
        )
      : null,
  );
  onProduct = applyLive;
}

// ---------------------------------------------------------------- identity administration

/** What the admin views (admin/*.js) use of the console. */
const kit = { h, render, flash, flashError, describe, api, ApiError, dateTime, navigate, isAdmin };

// ---------------------------------------------------------------- router

const ROUTES = [
  [/^\/$/, (p) => catalogView(p)],
  [/^\/products$/, (p) => catalogView(p)],
  [/^\/products\/([^/]+)$/, (_p, id) => productView(decodeURIComponent(id))],
  [/^\/cart$/, () => cartView()],
  [/^\/orders$/, (p) => ordersView(p)],
  [/^\/orders\/([^/]+)$/, (_p, id) => orderView(decodeURIComponent(id))],
  [/^\/dashboard$/, () => dashboardView()],
  [/^\/admin\/products\/new$/, () => newProductView()],
  [/^\/admin\/users$/, (p) => usersView(kit, p)],
  [/^\/admin\/users\/([^/]+)$/, (_p, id) => userView(kit, decodeURIComponent(id))],
  [/^\/admin\/clients$/, (p) => clientsView(kit, p)],
  [/^\/admin\/keys$/, () => keysView(kit)],
  [/^\/admin\/requests$/, (p) => requestsView(kit, p)],
  [/^\/admin\/requests\/([0-9a-f]{32})$/, (_p, id) => traceView(kit, id)],
  [/^\/admin\/audit$/, () => auditView(kit)],
  [/^\/admin\/mailbox$/, () => mailboxView(kit)],
];

function routeFor(pathname) {
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(pathname);
    if (match) return (params) => view(params, ...match.slice(1));
  }
  return null;
}

let shown = '';

async function show(focus) {
  shown = location.pathname + location.search;
  onProduct = null;
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

function navigate(to) {
  history.pushState(null, '', to);
  return show(true);
}

document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[href]');
  if (
    !link ||
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
  if (form.method !== 'get' || event.defaultPrevented) return;
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

await loadSession();
connectLive();
await show(false);
