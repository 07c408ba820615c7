// @ts-check
/** The signed-in user's orders, newest first, a page at a time (the dashboard shows the table too). */
/** @import { Order, OrderPage } from '../lib/types.js' */
import { consoleLink } from '../lib/api.js';
import { h, render, table } from '../lib/dom.js';
import { dateTime, money } from '../lib/format.js';
import { data, gateway } from '../lib/gateway.js';
import { errorBox } from '../lib/problems.js';
import { session } from '../lib/session.js';
import { signInPrompt } from './banner.js';

/** @param {Order} order */
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

/** @param {Order[]} orders */
export function ordersTable(orders) {
  return table(['Order', 'Placed', 'Status', 'Total'], orders.map(orderRow), { class: 'table' });
}

/** @param {URLSearchParams} params */
export async function ordersView(params) {
  const user = session.user;
  if (!session.authenticated || !user) return render('My orders', signInPrompt('see your orders'));
  const page = Number(params.get('page') ?? '1');
  /** @type {OrderPage} */
  let list;
  try {
    list = await data(
      gateway.GET('/api/v1/orders', {
        params: {
          query: { user_id: user.sub, page: Number.isInteger(page) && page > 0 ? page : 1, limit: 10 },
        },
      }),
    );
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
