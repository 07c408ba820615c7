// @ts-check
/**
 * One product: its facts, and a button for each action the API offers on it (hypermedia:
 * what may be done depends on who asks and on the stock). Live changes update it in place.
 */
/** @import { Action, Product, ProductActions } from '../lib/types.js' */
import { ApiError } from '../lib/api.js';
import { flash, h, main, render } from '../lib/dom.js';
import { humanize, money } from '../lib/format.js';
import { data, follow, gateway } from '../lib/gateway.js';
import { applyLive, liveProductListener, onLiveProduct } from '../lib/live.js';
import { navigate } from '../lib/navigation.js';
import { describe, errorBox } from '../lib/problems.js';
import { session } from '../lib/session.js';
import { productForm } from './product-form.js';

/** @type {Record<string, string>} */
const ACTION_LABELS = {
  add_to_cart: 'Add to cart',
  mark_out_of_stock: 'Mark out of stock',
  mark_in_stock: 'Mark in stock',
  update: 'Edit',
  delete: 'Delete',
};

/**
 * @param {string} id
 * @param {{ message?: string }} [opts] what the status line says first
 */
export async function productView(id, opts = {}) {
  /** @type {ProductActions} */
  let result;
  let etag = /** @type {string | null} */ (null);
  try {
    const [actions, current] = await Promise.all([
      data(gateway.GET('/api/v1/products/{id}/actions', { params: { path: { id } } })),
      gateway.GET('/api/v1/products/{id}', {
        params: { path: { id } },
        headers: { 'cache-control': 'no-cache' },
      }),
    ]);
    result = actions;
    etag = current.response.headers.get('etag');
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

  /**
   * @param {Action} action
   * @param {unknown} body
   * @param {HTMLButtonElement} [button]
   */
  async function run(action, body, button) {
    if (action.method === 'DELETE' && !confirm(`Delete “${product.name}”? This cannot be undone.`)) return;
    button?.setAttribute('aria-busy', 'true');
    if (button) button.disabled = true;
    // Our own change comes back as a live event too: this page re-reads the product itself.
    const live = liveProductListener();
    if (action.name !== 'add_to_cart') onLiveProduct(null);
    /** @type {Record<string, string>} */
    const headers =
      etag && action.href.startsWith('/api/v1/products/') && action.method !== 'POST'
        ? { 'if-match': etag }
        : {};
    try {
      await follow(action, body, headers);
      if (action.name === 'delete') {
        flash(`“${product.name}” was deleted.`);
        return navigate('/products');
      }
      const quantity = /** @type {{ quantity?: number } | undefined} */ (body)?.quantity;
      /** @type {Record<string, string>} */
      const words = {
        add_to_cart: `Added ${quantity ?? 1} × “${product.name}” to your cart.`,
        update: 'Saved.',
        mark_out_of_stock: 'Marked out of stock.',
        mark_in_stock: 'Marked in stock.',
      };
      await productView(id, { message: words[action.name] ?? `${humanize(action.name)}: done.` });
    } catch (err) {
      onLiveProduct(live);
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
          onsubmit: (/** @type {SubmitEvent} */ e) => {
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
  onLiveProduct((/** @type {Product} */ p) => {
    if (p.id !== product.id) return;
    const before = main.querySelector(`[data-price-for="${CSS.escape(p.id)}"]`)?.textContent;
    applyLive(p);
    const after = money(p.price, p.currency);
    if (before !== after) status.replaceChildren(`The price is now ${after}.`);
    // What may be done depends on the stock: ask for the actions again (unless a form is open).
    if (p.in_stock !== product.in_stock && !panel.hasChildNodes()) {
      productView(id, { message: p.in_stock ? 'Back in stock.' : 'Now out of stock.' });
    }
  });
  if (opts.message) status.focus?.();
}
