/**
 * Orders: a checkout turns the cart into an order, priced and named by the catalog
 * at that moment, in one transaction that also empties the cart. State machine:
 *
 *   pending ──pay──► paid ──fulfil──► fulfilled
 *      └──cancel──► cancelled
 *
 * Every transition is a conditional update on the state it leaves, so two racing
 * transitions cannot both win; anything else is INVALID_STATE_TRANSITION (409).
 */
import type { Kysely } from '@portico/store/sql';
import { uuidv7 } from '@portico/store/sql';
import type { CatalogClient, CatalogProduct } from '../data/catalog.ts';
import type { OrderItemRow, OrderRow, OrderStatus, OrdersDb } from '../data/schema.ts';
import { errors } from '../errors.ts';
import { type Cart, getCart } from './cart.ts';

export interface Order extends OrderRow {
  items: OrderItemRow[];
}

/** Who is asking: customers see their own orders, admins see all. */
export interface Caller {
  userId: string;
  admin: boolean;
}

export async function checkout(
  db: Kysely<OrdersDb>,
  catalog: CatalogClient,
  userId: string,
  requestId?: string,
  /** Throws to refuse the cart as it is now (If-Match against the cart's ETag). */
  precondition?: (cart: Cart) => void,
): Promise<Order> {
  const cart = await getCart(db, userId);
  precondition?.(cart);
  if (cart.items.length === 0) throw errors.CART_EMPTY('The cart is empty: add products before ordering');

  // Priced outside the transaction: no lock is held while the catalog is asked.
  const products = await Promise.all(
    cart.items.map((item) => catalog.getProduct(item.product_id, requestId)),
  );
  const priced = cart.items.map((item, i) => {
    const product = products[i] as CatalogProduct | null;
    if (!product) throw errors.PRODUCT_NOT_FOUND(`Product with id ${item.product_id} no longer exists`);
    if (!product.inStock) throw errors.PRODUCT_OUT_OF_STOCK(`Product ${product.name} is out of stock`);
    return { item, product };
  });
  const currency = priced[0]!.product.currency;
  const odd = priced.find(({ product }) => product.currency !== currency);
  if (odd) {
    throw errors.CURRENCY_MISMATCH(
      `Products priced in ${currency} and ${odd.product.currency} cannot be in one order`,
    );
  }

  const now = new Date().toISOString();
  const order: OrderRow = {
    id: uuidv7(),
    user_id: userId,
    status: 'pending',
    currency,
    total_minor: 0,
    payment_id: null,
    created_at: now,
    updated_at: now,
    paid_at: null,
    fulfilled_at: null,
    cancelled_at: null,
  };
  const items: OrderItemRow[] = priced.map(({ item, product }, position) => ({
    order_id: order.id,
    position,
    product_id: product.id,
    category_id: product.categoryId,
    name: product.name,
    unit_price_minor: product.priceMinor,
    quantity: item.quantity,
    line_total_minor: product.priceMinor * item.quantity,
  }));
  order.total_minor = items.reduce((sum, item) => sum + item.line_total_minor, 0);

  await db.transaction().execute(async (trx) => {
    // The claim: only the checkout that still sees the version it priced goes on.
    const claimed = await trx
      .updateTable('carts')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
      .where('user_id', '=', userId)
      .where('version', '=', cart.version)
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) {
      throw errors.CART_CHANGED(
        'The cart changed while the order was being placed (another checkout or an edit); review it and try again',
      );
    }
    await trx.insertInto('orders').values(order).execute();
    await trx.insertInto('order_items').values(items).execute();
    await trx.deleteFrom('cart_items').where('user_id', '=', userId).execute();
  });
  return { ...order, items };
}

/** The order when the caller may see it; someone else's order is "not found", never "forbidden". */
export async function getOrder(db: Kysely<OrdersDb>, id: string, caller: Caller): Promise<Order> {
  const order = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  if (!order || (!caller.admin && order.user_id !== caller.userId)) {
    throw errors.ORDER_NOT_FOUND(`Order with id ${id} not found`);
  }
  const items = await db
    .selectFrom('order_items')
    .selectAll()
    .where('order_id', '=', id)
    .orderBy('position')
    .execute();
  return { ...order, items };
}

export interface ListQuery {
  /** Only this user's orders; undefined lists everyone's (admins only, checked by the caller). */
  userId?: string;
  status?: OrderStatus;
  page: number;
  limit: number;
}

export async function listOrders(
  db: Kysely<OrdersDb>,
  query: ListQuery,
): Promise<{ orders: Order[]; total: number }> {
  let base = db.selectFrom('orders');
  if (query.userId !== undefined) base = base.where('user_id', '=', query.userId);
  if (query.status !== undefined) base = base.where('status', '=', query.status);
  const [{ total }] = (await base.select((eb) => eb.fn.countAll<number>().as('total')).execute()) as [
    { total: number | string },
  ];
  const rows = await base
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .offset((query.page - 1) * query.limit)
    .execute();
  const items =
    rows.length === 0
      ? []
      : await db
          .selectFrom('order_items')
          .selectAll()
          .where(
            'order_id',
            'in',
            rows.map((row) => row.id),
          )
          .orderBy('order_id')
          .orderBy('position')
          .execute();
  const byOrder = Map.groupBy(items, (item) => item.order_id);
  return {
    orders: rows.map((row) => ({ ...row, items: byOrder.get(row.id) ?? [] })),
    total: Number(total),
  };
}

export async function cancelOrder(db: Kysely<OrdersDb>, id: string, caller: Caller): Promise<Order> {
  const current = await getOrder(db, id, caller);
  const now = new Date().toISOString();
  const done = await db
    .updateTable('orders')
    .set({ status: 'cancelled', cancelled_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (done.numUpdatedRows === 0n) {
    const latest = await getOrder(db, id, caller);
    throw invalidTransition(latest.status, 'cancelled');
  }
  return { ...current, status: 'cancelled', cancelled_at: now, updated_at: now };
}

export async function fulfilOrder(db: Kysely<OrdersDb>, id: string, caller: Caller): Promise<Order> {
  const current = await getOrder(db, id, caller);
  const now = new Date().toISOString();
  const done = await db
    .updateTable('orders')
    .set({ status: 'fulfilled', fulfilled_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'paid')
    .executeTakeFirst();
  if (done.numUpdatedRows === 0n) {
    const latest = await getOrder(db, id, caller);
    throw invalidTransition(latest.status, 'fulfilled');
  }
  return { ...current, status: 'fulfilled', fulfilled_at: now, updated_at: now };
}

export interface PaymentNotice {
  paymentId: string;
  amountMinor: number;
  currency: string;
}

/**
 * pending → paid, told by the payments service. Idempotent: the same payment again
 * answers the paid order and changes nothing; a different payment for a paid order is a 409.
 */
export async function markPaid(
  db: Kysely<OrdersDb>,
  id: string,
  payment: PaymentNotice,
): Promise<{ order: Order; changed: boolean }> {
  const system: Caller = { userId: '', admin: true };
  const current = await getOrder(db, id, system);
  if (current.payment_id !== null) {
    if (current.payment_id === payment.paymentId) return { order: current, changed: false };
    throw errors.ALREADY_PAID_BY_OTHER_PAYMENT(`Order ${id} is already paid by another payment`);
  }
  if (current.status !== 'pending') throw invalidTransition(current.status, 'paid');
  if (payment.amountMinor !== current.total_minor || payment.currency !== current.currency) {
    throw errors.AMOUNT_MISMATCH(
      `Order ${id} totals ${current.total_minor} ${current.currency} (minor units); the payment is ${payment.amountMinor} ${payment.currency}`,
    );
  }
  const now = new Date().toISOString();
  const done = await db
    .updateTable('orders')
    .set({ status: 'paid', payment_id: payment.paymentId, paid_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('payment_id', 'is', null)
    .executeTakeFirst();
  if (done.numUpdatedRows === 0n) return markPaid(db, id, payment); // lost a race: judge the new state
  return {
    order: { ...current, status: 'paid', payment_id: payment.paymentId, paid_at: now, updated_at: now },
    changed: true,
  };
}

function invalidTransition(from: OrderStatus, to: OrderStatus) {
  return errors.INVALID_STATE_TRANSITION(`An order that is ${from} cannot become ${to}`, {
    extensions: { current_status: from },
  });
}

export interface Purchase {
  productId: string;
  categoryId: string | null;
  quantity: number;
}

/** What a user has ordered (cancelled orders excluded), most-bought first: feeds recommendations. */
export async function purchases(db: Kysely<OrdersDb>, userId: string, limit: number): Promise<Purchase[]> {
  const rows = await db
    .selectFrom('order_items')
    .innerJoin('orders', 'orders.id', 'order_items.order_id')
    .select((eb) => [
      'order_items.product_id',
      'order_items.category_id',
      eb.fn.sum<number | string>('order_items.quantity').as('quantity'),
    ])
    .where('orders.user_id', '=', userId)
    .where('orders.status', '!=', 'cancelled')
    .groupBy(['order_items.product_id', 'order_items.category_id'])
    .orderBy('quantity', 'desc')
    .orderBy('order_items.product_id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    productId: row.product_id,
    categoryId: row.category_id,
    quantity: Number(row.quantity),
  }));
}

/** Products ranked by units ordered across all users (cancelled orders excluded): ids only, no volumes. */
export async function popularProducts(db: Kysely<OrdersDb>, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('order_items')
    .innerJoin('orders', 'orders.id', 'order_items.order_id')
    .select((eb) => [
      'order_items.product_id',
      eb.fn.sum<number | string>('order_items.quantity').as('units'),
    ])
    .where('orders.status', '!=', 'cancelled')
    .groupBy('order_items.product_id')
    .orderBy('units', 'desc')
    .orderBy('order_items.product_id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.product_id);
}
