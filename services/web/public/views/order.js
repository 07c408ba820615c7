// @ts-check
/** One order: its facts and items, payment while it is pending, and cancelling it. */
/** @import { Order, PaymentIntent } from '../lib/types.js' */
import { h, render, table } from '../lib/dom.js';
import { dateTime, money } from '../lib/format.js';
import { data, gateway } from '../lib/gateway.js';
import { errorBox } from '../lib/problems.js';
import { session } from '../lib/session.js';
import { signInPrompt } from './banner.js';
import { paymentForm } from './payment.js';

/**
 * @param {string} id
 * @param {{ message?: string, paymentAccepted?: boolean }} [opts]
 * @returns {Promise<void>}
 */
export async function orderView(id, opts = {}) {
  if (!session.authenticated) return render('Order', signInPrompt('see this order'));
  /** @type {Order} */
  let order;
  try {
    ({ data: order } = await data(gateway.GET('/api/v1/orders/{id}', { params: { path: { id } } })));
  } catch (err) {
    return render('Order', errorBox(err));
  }
  const status = h('div', { role: 'status', 'aria-live': 'polite' }, opts.message ?? '');
  /** @type {HTMLElement[]} */
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
    table(
      ['Product', 'Price', 'Quantity', 'Total'],
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
      { class: 'table' },
    ),
    status,
  ];
  // The order's links say what may be done with it now: pay, cancel.
  if (order.status === 'pending' && order.links.pay) {
    // A payment may already be under way for this order (another tab, an earlier visit).
    /** @type {PaymentIntent[]} */
    const intents = opts.paymentAccepted
      ? []
      : await data(gateway.GET('/api/v1/payments', { params: { query: { order_id: order.id } } }))
          .then((answer) => answer.data)
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
          () => orderView(order.id, { message: 'Payment accepted. Thank you!', paymentAccepted: true }),
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
            await gateway.POST('/api/v1/orders/{id}/cancel', { params: { path: { id: order.id } } });
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
