import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { JSON_API_SECURITY_HEADERS, securityHeadersOf } from '@portico/http/testing';
import { databaseTargets } from '@portico/store/testing';
import { TIMEOUT_CARD } from '../src/clients/processor.ts';
import {
  card,
  customer,
  eventually,
  orderWithIntent,
  placeOrder,
  type Stack,
  startStack,
} from './support/harness.ts';

const OK = '4242424242424242';
const DECLINE = '4000000000000002';

for (const makeTarget of databaseTargets()) {
  describe(`payments service (${makeTarget().name})`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(makeTarget);
    });
    after(async () => {
      await stack.close();
    });
    const chargesFor = (intentId: string) =>
      stack.processor.charges.filter((c) => c.idempotencyKey.startsWith(`${intentId}:`));

    test('journey: add to cart, order, pay; the order shows paid', async () => {
      const alice = await customer(stack);
      const order = await placeOrder(alice, [
        ['01900000-0000-7000-8000-00000000b00c', 2],
        ['01900000-0000-7000-8000-0000000000e2', 3],
      ]);
      assert.equal(order.total_minor, 3998 + 30);

      const created = await alice.payments('POST', '/api/v1/payments', { order_id: order.id }, randomUUID());
      assert.equal(created.statusCode, 201, created.body);
      const intent = created.json().data;
      assert.equal(created.headers.location, `/api/v1/payments/${intent.id}`);
      assert.deepEqual(
        {
          amount: intent.amount,
          amount_minor: intent.amount_minor,
          currency: intent.currency,
          status: intent.status,
        },
        { amount: 40.28, amount_minor: 4028, currency: 'USD', status: 'requires_confirmation' },
      );

      const paid = await alice.payments('POST', intent.links.confirm, card(OK), randomUUID());
      assert.equal(paid.statusCode, 200, paid.body);
      assert.equal(paid.json().data.status, 'succeeded');
      assert.equal(paid.json().data.order_sync, 'done');
      assert.deepEqual(paid.json().data.card, { brand: 'visa', last4: '4242' });
      assert.doesNotMatch(paid.body, /4242424242424242/);

      const seen = (await alice.orders('GET', `/api/v1/orders/${order.id}`)).json().data;
      assert.equal(seen.status, 'paid');
      assert.equal(seen.payment_id, intent.id);
      const listed = (await alice.orders('GET', `/api/v1/orders?user_id=${alice.sub}&limit=5`)).json().data;
      assert.equal(listed[0].status, 'paid');
      assert.deepEqual(
        chargesFor(intent.id).map((c) => [c.amountMinor, c.currency]),
        [[4028, 'USD']],
      );
      const read = await alice.payments('GET', `/api/v1/payments/${intent.id}`);
      assert.equal(read.json().data.status, 'succeeded');
      const mine = (await alice.payments('GET', `/api/v1/payments?order_id=${order.id}`)).json().data;
      assert.deepEqual(
        mine.map((i: { id: string; status: string }) => [i.id, i.status]),
        [[intent.id, 'succeeded']],
      );
      const bob = await customer(stack);
      assert.deepEqual((await bob.payments('GET', `/api/v1/payments?order_id=${order.id}`)).json().data, []);
    });

    test('answers and problems carry the JSON-API security headers', async () => {
      const alice = await customer(stack);
      const order = await placeOrder(alice, [['01900000-0000-7000-8000-00000000b00c', 1]]);
      const created = await alice.payments('POST', '/api/v1/payments', { order_id: order.id }, randomUUID());
      assert.equal(created.statusCode, 201, created.body);
      const anonymous = await stack.payments.inject({ url: `/api/v1/payments/${created.json().data.id}` });
      assert.equal(anonymous.statusCode, 401);
      for (const [answer, res] of Object.entries({ created, anonymous }))
        assert.deepEqual(securityHeadersOf(res.headers), JSON_API_SECURITY_HEADERS, answer);
    });

    test('Idempotency-Key: required; same key and body replay; different body 422', async () => {
      const alice = await customer(stack);
      const order = await placeOrder(alice);
      const missing = await alice.payments('POST', '/api/v1/payments', { order_id: order.id });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().code, 'IDEMPOTENCY_KEY_REQUIRED');

      const key = randomUUID();
      const first = await alice.payments('POST', '/api/v1/payments', { order_id: order.id }, key);
      const again = await alice.payments('POST', '/api/v1/payments', { order_id: order.id }, key);
      assert.equal(first.statusCode, 201);
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(first.headers['idempotent-replayed'], undefined);
      assert.deepEqual(again.json(), first.json());
      assert.equal(again.headers.location, first.headers.location);
      const intents = await stack.paymentsDb.db
        .selectFrom('payment_intents')
        .select('id')
        .where('order_id', '=', order.id)
        .execute();
      assert.equal(intents.length, 1, 'the replay created nothing');

      const other = await alice.payments('POST', '/api/v1/payments', { order_id: order.id, amount: 1 }, key);
      assert.equal(other.statusCode, 422);
      assert.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED');

      // Keys belong to their caller: Bob's use of the same key is his own request.
      const bob = await customer(stack);
      const bobs = await bob.payments('POST', '/api/v1/payments', { order_id: order.id }, key);
      assert.equal(bobs.statusCode, 404);
      assert.equal(bobs.json().code, 'ORDER_NOT_FOUND');
    });

    test('a payment retried with the same key charges once and answers the same', async () => {
      const { who: alice, intent } = await orderWithIntent(stack);
      const key = randomUUID();
      const first = await alice.payments('POST', intent.links.confirm, card(OK), key);
      const retry = await alice.payments('POST', intent.links.confirm, card(OK), key);
      assert.equal(first.statusCode, 200);
      assert.equal(retry.statusCode, 200);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.deepEqual(retry.json(), first.json());
      const fresh = await alice.payments('POST', intent.links.confirm, card(OK), randomUUID());
      assert.equal(fresh.statusCode, 200, 'confirming a paid intent is harmless');
      assert.equal(chargesFor(intent.id).length, 1);
      const differentCard = await alice.payments('POST', intent.links.confirm, card('5555555555554444'), key);
      assert.equal(differentCard.statusCode, 422);
    });

    test('concurrent duplicates: one charge, whatever the keys', async () => {
      const { who: alice, intent } = await orderWithIntent(stack);
      const key = randomUUID();
      const same = await Promise.all(
        Array.from({ length: 6 }, () => alice.payments('POST', intent.links.confirm, card(OK), key)),
      );
      const statuses = same.map((r) => r.statusCode);
      assert.ok(statuses.includes(200), `statuses: ${statuses}`);
      for (const r of same.filter((r) => r.statusCode !== 200)) {
        assert.equal(r.statusCode, 409, r.body);
        assert.equal(r.json().code, 'IDEMPOTENCY_KEY_IN_USE');
        assert.equal(r.headers['retry-after'], '1');
      }
      assert.equal(chargesFor(intent.id).length, 1);

      const order2 = await placeOrder(alice);
      const intent2 = (
        await alice.payments('POST', '/api/v1/payments', { order_id: order2.id }, randomUUID())
      ).json().data;
      const intent3 = (
        await alice.payments('POST', '/api/v1/payments', { order_id: order2.id }, randomUUID())
      ).json().data;
      const racing = await Promise.all(
        [intent2, intent2, intent3, intent3].map((i) =>
          alice.payments('POST', i.links.confirm, card(OK), randomUUID()),
        ),
      );
      const codes = racing.map((r) => (r.statusCode === 200 ? 200 : r.json().code));
      const charged = stack.processor.charges.filter(
        (c) => c.idempotencyKey.startsWith(`${intent2.id}:`) || c.idempotencyKey.startsWith(`${intent3.id}:`),
      );
      assert.equal(charged.length, 1, `one charge for the order; answers: ${codes}`);
      for (const code of codes) {
        assert.ok(
          [200, 'PAYMENT_IN_PROGRESS', 'ORDER_ALREADY_PAID', 'ORDER_NOT_PAYABLE'].includes(code),
          String(code),
        );
      }
      const seen = (await alice.orders('GET', `/api/v1/orders/${order2.id}`)).json().data;
      assert.equal(seen.status, 'paid');
    });

    test('declined card: 402, nothing charged, another card may follow', async () => {
      const { who: alice, order, intent } = await orderWithIntent(stack);
      const declined = await alice.payments('POST', intent.links.confirm, card(DECLINE), randomUUID());
      assert.equal(declined.statusCode, 402);
      assert.equal(declined.json().code, 'PAYMENT_DECLINED');
      assert.equal(declined.json().decline_code, 'card_declined');
      const after = (await alice.payments('GET', `/api/v1/payments/${intent.id}`)).json().data;
      assert.equal(after.status, 'requires_payment_method');
      assert.deepEqual(after.last_error, { code: 'card_declined', message: 'The card was declined' });
      assert.equal((await alice.orders('GET', `/api/v1/orders/${order.id}`)).json().data.status, 'pending');

      const typo = await alice.payments('POST', intent.links.confirm, card('4242424242424241'), randomUUID());
      assert.equal(typo.json().code, 'INVALID_CARD_NUMBER');
      const expired = await alice.payments(
        'POST',
        intent.links.confirm,
        { card: { number: OK, exp_month: 1, exp_year: 2020, cvc: '123' } },
        randomUUID(),
      );
      assert.equal(expired.statusCode, 402);
      assert.equal(expired.json().decline_code, 'expired_card');

      const ok = await alice.payments('POST', intent.links.confirm, card(OK), randomUUID());
      assert.equal(ok.json().data.status, 'succeeded');
      assert.equal(chargesFor(intent.id).length, 1);
    });

    test('processor timeout: 504 within budget; a retry resolves it and charges once', async () => {
      const { who: alice, order, intent } = await orderWithIntent(stack);
      const key = randomUUID();
      const t0 = performance.now();
      const slow = await alice.payments('POST', intent.links.confirm, card(TIMEOUT_CARD), key);
      assert.equal(slow.statusCode, 504);
      assert.equal(slow.json().code, 'PROCESSOR_TIMEOUT');
      assert.ok(performance.now() - t0 < 2000);
      const state = (await alice.payments('GET', `/api/v1/payments/${intent.id}`)).json().data;
      assert.equal(state.status, 'processing');
      assert.equal((await alice.orders('GET', `/api/v1/orders/${order.id}`)).json().data.status, 'pending');

      const ok = await alice.payments('POST', intent.links.confirm, card(OK), randomUUID());
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().data.status, 'succeeded');
      assert.equal(chargesFor(intent.id).length, 1);
    });

    test('a crash after charging: the retry takes over the key and does not charge twice', async () => {
      const { who: alice, order, intent } = await orderWithIntent(stack);
      const key = randomUUID();
      const body = card(OK);
      // What a process killed mid-request leaves: the key held (`processing`), the intent
      // claimed, and a charge the processor made but nobody recorded.
      const first = await alice.payments('POST', intent.links.confirm, body, key);
      assert.equal(first.statusCode, 200);
      const { db } = stack.paymentsDb;
      const past = new Date(Date.now() - 1000).toISOString();
      await db
        .updateTable('idempotency_keys')
        .set({ state: 'processing', locked_until: new Date(Date.now() + 60_000).toISOString() })
        .where('key', '=', key)
        .execute();
      await db
        .updateTable('payment_intents')
        .set({ status: 'processing', processing_until: past, order_sync: 'not_needed' })
        .where('id', '=', intent.id)
        .execute();

      const busy = await alice.payments('POST', intent.links.confirm, body, key);
      assert.equal(busy.statusCode, 409, 'while the lease holds, the key is in use');
      assert.equal(busy.json().code, 'IDEMPOTENCY_KEY_IN_USE');

      await db.updateTable('idempotency_keys').set({ locked_until: past }).where('key', '=', key).execute();
      const retry = await alice.payments('POST', intent.links.confirm, body, key);
      assert.equal(retry.statusCode, 200, retry.body);
      assert.equal(retry.headers['idempotent-replayed'], undefined);
      assert.equal(retry.json().data.status, 'succeeded');
      assert.equal(chargesFor(intent.id).length, 1);
      assert.equal((await alice.orders('GET', `/api/v1/orders/${order.id}`)).json().data.status, 'paid');
    });

    test('the order is marked paid later when the orders side cannot be told at once', async () => {
      const { who: alice, order, intent } = await orderWithIntent(stack);
      stack.serviceTokenFailures.remaining = Number.POSITIVE_INFINITY;
      const res = await alice.payments('POST', intent.links.confirm, card(OK), randomUUID());
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().data.status, 'succeeded');
      assert.equal(res.json().data.order_sync, 'pending');
      assert.equal((await alice.orders('GET', `/api/v1/orders/${order.id}`)).json().data.status, 'pending');
      const failing = (await alice.payments('GET', `/api/v1/payments/${intent.id}`)).json().data;
      assert.equal(failing.status, 'succeeded');
      assert.equal(failing.order_sync, 'pending');

      stack.serviceTokenFailures.remaining = 2; // identity comes back after two more failures
      await eventually(
        async () => (await alice.orders('GET', `/api/v1/orders/${order.id}`)).json().data.status === 'paid',
      );
      await eventually(
        async () =>
          (await alice.payments('GET', `/api/v1/payments/${intent.id}`)).json().data.order_sync === 'done',
      );
      assert.equal(stack.serviceTokenFailures.remaining, 0);
      assert.equal(chargesFor(intent.id).length, 1);
    });

    test('an order cancelled while its payment is charging: the charge is refunded, the order stays cancelled', async () => {
      const { who: alice, order, intent } = await orderWithIntent(stack);
      stack.hooks.beforeCharge = async () => {
        const cancelled = await alice.orders('POST', `/api/v1/orders/${order.id}/cancel`);
        assert.equal(cancelled.statusCode, 200);
      };
      try {
        const res = await alice.payments('POST', intent.links.confirm, card(OK), randomUUID());
        assert.equal(res.statusCode, 409);
        assert.equal(res.json().code, 'ORDER_NOT_PAYABLE');
      } finally {
        stack.hooks.beforeCharge = undefined;
      }
      const charged = chargesFor(intent.id);
      assert.equal(charged.length, 1);
      assert.ok(stack.processor.refunds.includes(charged[0]!.chargeId));
      const after = (await alice.payments('GET', `/api/v1/payments/${intent.id}`)).json().data;
      assert.equal(after.status, 'refunded');
      assert.equal(after.order_sync, 'rejected');
      assert.equal((await alice.orders('GET', `/api/v1/orders/${order.id}`)).json().data.status, 'cancelled');
    });

    test('amounts and ownership are checked against the order', async () => {
      const alice = await customer(stack);
      const bob = await customer(stack);
      const order = await placeOrder(alice);
      const wrong = await alice.payments(
        'POST',
        '/api/v1/payments',
        { order_id: order.id, amount: 39.97 },
        randomUUID(),
      );
      assert.equal(wrong.statusCode, 422);
      assert.equal(wrong.json().code, 'AMOUNT_MISMATCH');
      const right = await alice.payments(
        'POST',
        '/api/v1/payments',
        { order_id: order.id, amount: 39.98, currency: 'USD' },
        randomUUID(),
      );
      assert.equal(right.statusCode, 201);
      const intent = right.json().data;

      assert.equal((await bob.payments('GET', `/api/v1/payments/${intent.id}`)).statusCode, 404);
      const steal = await bob.payments('POST', intent.links.confirm, card(OK), randomUUID());
      assert.equal(steal.statusCode, 404);
      assert.equal(steal.json().code, 'PAYMENT_NOT_FOUND');
      const unknown = await alice.payments(
        'POST',
        '/api/v1/payments',
        { order_id: '01900000-0000-7000-8000-0000000000ff' },
        randomUUID(),
      );
      assert.equal(unknown.statusCode, 404);
      for (const order_id of ['nope', '\ud800']) {
        const malformed = await alice.payments('POST', '/api/v1/payments', { order_id }, randomUUID());
        assert.equal(malformed.statusCode, 400, order_id);
      }

      assert.equal((await alice.orders('POST', `/api/v1/orders/${order.id}/cancel`)).statusCode, 200);
      const late = await alice.payments('POST', intent.links.confirm, card(OK), randomUUID());
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().code, 'ORDER_NOT_PAYABLE');
      assert.equal(chargesFor(intent.id).length, 0);
      const anon = await stack.payments.inject({
        method: 'GET',
        url: `/api/v1/payments/${intent.id}`,
      });
      assert.equal(anon.statusCode, 401);
    });
  });
}
