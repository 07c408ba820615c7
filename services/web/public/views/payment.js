// @ts-check
/**
 * Payment with a test card, following the order's `pay` link: a payment intent for the
 * order, then its `confirm` link with the card. Each POST carries an Idempotency-Key; a
 * retry after a lost answer (network error, 504) reuses it, a new attempt gets a new one.
 */
/** @import { Order, PaymentIntent } from '../lib/types.js' */
import { ApiError } from '../lib/api.js';
import { h, handledForm } from '../lib/dom.js';
import { money } from '../lib/format.js';
import { data, gateway } from '../lib/gateway.js';
import { errorBox } from '../lib/problems.js';

/**
 * @param {Order} order a pending one, its `pay` link offered
 * @param {HTMLElement} status the order page's status line
 * @param {PaymentIntent | undefined} existing an intent already made for it, to confirm
 * @param {() => Promise<void>} onPaid shows the order again once it is paid
 */
export function paymentForm(order, status, existing, onPaid) {
  const createKey = crypto.randomUUID();
  let confirmKey = crypto.randomUUID();
  let intent = existing ?? null;
  const pay = h('button', { type: 'submit' }, `Pay ${money(order.total, order.currency)}`);
  const form = handledForm(
    {
      class: 'stack payment',
    },
    async (f) => {
      const [month, year] = String(f.get('expiry'))
        .split('/')
        .map((s) => Number(s.trim()));
      pay.disabled = true;
      pay.setAttribute('aria-busy', 'true');
      status.replaceChildren('Paying…');
      try {
        if (!intent?.links.confirm) {
          ({ data: intent } = await data(
            gateway.POST('/api/v1/payments', {
              params: { header: { 'idempotency-key': createKey } },
              body: { order_id: order.id },
            }),
          ));
        }
        // An intent that can be confirmed has a `confirm` link.
        ({ data: intent } = await data(
          gateway.POST('/api/v1/payments/{id}/confirm', {
            params: { path: { id: intent.id }, header: { 'idempotency-key': confirmKey } },
            body: {
              card: {
                number: String(f.get('number')).replace(/[\s-]/g, ''),
                exp_month: month || 0,
                exp_year: year !== undefined && year < 100 ? 2000 + year : year || 0,
                cvc: String(f.get('cvc')).trim(),
              },
            },
          }),
        ));
        // The payments service tells the orders service; give it a moment to show as paid.
        let paid = false;
        for (let i = 0; i < 10 && !paid; i++) {
          const current = await data(
            gateway.GET('/api/v1/orders/{id}', { params: { path: { id: order.id } } }),
          ).catch(() => null);
          paid = current?.data.status !== 'pending';
          if (!paid) await new Promise((r) => setTimeout(r, 500));
        }
        await onPaid();
      } catch (err) {
        const lost = !(err instanceof ApiError) || err.status === 504;
        if (!lost) confirmKey = crypto.randomUUID();
        status.replaceChildren(errorBox(err));
        pay.disabled = false;
        pay.removeAttribute('aria-busy');
      }
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
