// @ts-check
/**
 * The signed-in user's dashboard: profile, recent orders and recommendations, each shown
 * when its service answered (`GET /api/v1/dashboard` says which did not).
 */
/** @import { Dashboard } from '../lib/types.js' */
import { h, render } from '../lib/dom.js';
import { money } from '../lib/format.js';
import { data, gateway } from '../lib/gateway.js';
import { applyLive, onLiveProduct } from '../lib/live.js';
import { errorBox } from '../lib/problems.js';
import { session } from '../lib/session.js';
import { signInPrompt } from './banner.js';
import { ordersTable } from './orders.js';

export async function dashboardView() {
  if (!session.authenticated) return render('Dashboard', signInPrompt('see your dashboard'));
  /** @type {Dashboard} */
  let board;
  try {
    board = await data(gateway.GET('/api/v1/dashboard'));
  } catch (err) {
    return render('Dashboard', errorBox(err));
  }
  const unavailable = (/** @type {string} */ what) =>
    h('p', { class: 'muted' }, `${what} are not available right now.`);
  // A part is null when its service failed (`errors` says why).
  const profile = board.user_profile?.data;
  const orders = board.recent_orders?.data;
  const recs = board.recommendations?.data;
  render(
    'Dashboard',
    h(
      'section',
      { 'aria-labelledby': 'd-profile' },
      h('h2', { id: 'd-profile' }, 'Profile'),
      profile
        ? h('p', {}, [profile.display_name ?? session.user?.name, profile.email].filter(Boolean).join(' · '))
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
  onLiveProduct(applyLive);
}
