// @ts-check
/** The signed-in user's cart: quantities to change, items to remove, and check out. */
/** @import { Cart } from '../lib/types.js' */
import { flash, h, render, table } from '../lib/dom.js';
import { money } from '../lib/format.js';
import { data, gateway } from '../lib/gateway.js';
import { navigate } from '../lib/navigation.js';
import { errorBox } from '../lib/problems.js';
import { session } from '../lib/session.js';
import { signInPrompt } from './banner.js';

/** @returns {Promise<void>} */
export async function cartView() {
  if (!session.authenticated) return render('Cart', signInPrompt('see your cart'));
  /** @type {Cart} */
  let cart;
  try {
    cart = await data(gateway.GET('/api/v1/cart'));
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
            onsubmit: async (/** @type {SubmitEvent} */ e) => {
              e.preventDefault();
              try {
                await gateway.PATCH('/api/v1/cart/items/{id}', {
                  params: { path: { id: item.id } },
                  body: { quantity: Number(qty.value) },
                });
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
                await gateway.DELETE('/api/v1/cart/items/{id}', { params: { path: { id: item.id } } });
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
          const order = await data(gateway.POST('/api/v1/orders'));
          flash('Order placed. Pay for it below.');
          navigate(`/orders/${encodeURIComponent(order.data.id)}`);
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
    table(['Product', 'Price', 'Quantity', 'Total', h('span', { class: 'sr-only' }, 'Remove')], rows, {
      class: 'table',
    }),
    h('p', { class: 'total' }, `Subtotal: ${money(subtotal, currency ?? 'USD')}`),
    status,
    checkout,
  );
}
