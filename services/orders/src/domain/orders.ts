/**
 * Orders: a checkout turns the cart into an order, priced and named by the catalog
 * at that moment, in one transaction that also empties the cart. State machine:
 *
 *   pending ──pay──► paid ──fulfil──► fulfilled
 *      └──cancel──► cancelled
 *
 * Every transition is a conditional update on the state it leaves, so two racing
 * transitions cannot both win; anything else is INVALID_STATE_TRANSITION (409).
 * A placed or cancelled order is announced (`OrderEventData`, `@portico/events`) once its transaction committed.
 */
import type { OrderEventData } from '@portico/events';
import { type Database, uuidv7 } from '@portico/store/sql';
import type { CatalogClient, CatalogProduct } from '../clients/catalog.ts';
import { cartsTable } from '../data/carts.ts';
import { type OrderStatus, ordersTable } from '../data/orders.ts';
import type { OrderItemsTable, OrdersDatabase, OrdersTable } from '../data/schema.ts';
import { errors } from '../errors.ts';
import type { Cart, CartService } from './carts.ts';

export type { OrderStatus };

export interface OrderItem {
  productId: string;
  categoryId: string | null;
  name: string;
  unitPriceMinor: number;
  quantity: number;
  lineTotalMinor: number;
}

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  currency: string;
  totalMinor: number;
  paymentId: string | null;
  createdAt: string;
  updatedAt: string;
  paidAt: string | null;
  fulfilledAt: string | null;
  cancelledAt: string | null;
  items: OrderItem[];
}

/** Who is asking: customers see their own orders, admins see all. */
export interface Caller {
  userId: string;
  admin: boolean;
}

export interface ListQuery {
  /** This user's orders: the caller's own unless an admin asks; an admin asking for none sees everyone's. */
  userId?: string;
  status?: OrderStatus;
  page: number;
  limit: number;
}

export interface PaymentNotice {
  paymentId: string;
  amountMinor: number;
  currency: string;
}

function toOrder(row: OrdersTable, items: OrderItemsTable[]): Order {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    currency: row.currency,
    totalMinor: Number(row.total_minor),
    paymentId: row.payment_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    paidAt: row.paid_at,
    fulfilledAt: row.fulfilled_at,
    cancelledAt: row.cancelled_at,
    items: items.map((item) => ({
      productId: item.product_id,
      categoryId: item.category_id,
      name: item.name,
      unitPriceMinor: Number(item.unit_price_minor),
      quantity: item.quantity,
      lineTotalMinor: Number(item.line_total_minor),
    })),
  };
}

function eventOf(type: OrderEventData['type'], order: Order, at: string): OrderEventData {
  return {
    type,
    orderId: order.id,
    userId: order.userId,
    at,
    items: order.items.map((item) => ({
      productId: item.productId,
      categoryId: item.categoryId,
      quantity: item.quantity,
    })),
  };
}

function invalidTransition(from: OrderStatus, to: OrderStatus) {
  return errors.INVALID_STATE_TRANSITION(`An order that is ${from} cannot become ${to}`, {
    extensions: { current_status: from },
  });
}

export type OrderService = ReturnType<typeof createOrderService>;

export function createOrderService(
  database: Database<OrdersDatabase>,
  deps: { carts: CartService; catalog: CatalogClient; publish: (event: OrderEventData) => void },
) {
  const { db } = database;
  const orders = ordersTable(db);
  const { carts, catalog, publish } = deps;

  /** The order when the caller may see it; someone else's order is "not found", never "forbidden". */
  async function get(id: string, caller: Caller): Promise<Order> {
    const row = await orders.byId(id);
    if (!row || (!caller.admin && row.user_id !== caller.userId)) {
      throw errors.ORDER_NOT_FOUND(`Order with id ${id} not found`);
    }
    return toOrder(row, await orders.items([id]));
  }

  /** `from` → `to`, setting `changes`; the latest state decides the error when someone else moved first. */
  async function transition(
    id: string,
    caller: Caller,
    from: OrderStatus,
    to: OrderStatus,
    changes: (now: string) => Partial<OrdersTable>,
  ): Promise<Order> {
    await get(id, caller);
    const now = new Date().toISOString();
    const set = { ...changes(now), status: to, updated_at: now };
    if (!(await orders.transition(id, from, set))) {
      throw invalidTransition((await get(id, caller)).status, to);
    }
    return get(id, caller);
  }

  async function markPaid(id: string, payment: PaymentNotice): Promise<{ order: Order; changed: boolean }> {
    const system: Caller = { userId: '', admin: true };
    const current = await get(id, system);
    if (current.paymentId !== null) {
      if (current.paymentId === payment.paymentId) return { order: current, changed: false };
      throw errors.ALREADY_PAID_BY_OTHER_PAYMENT(`Order ${id} is already paid by another payment`);
    }
    if (current.status !== 'pending') throw invalidTransition(current.status, 'paid');
    if (payment.amountMinor !== current.totalMinor || payment.currency !== current.currency) {
      throw errors.AMOUNT_MISMATCH(
        `Order ${id} totals ${current.totalMinor} ${current.currency} (minor units); the payment is ${payment.amountMinor} ${payment.currency}`,
      );
    }
    const now = new Date().toISOString();
    const done = await orders.transition(
      id,
      'pending',
      { status: 'paid', payment_id: payment.paymentId, paid_at: now, updated_at: now },
      { unpaid: true },
    );
    if (!done) return markPaid(id, payment); // lost a race: judge the new state
    return {
      order: { ...current, status: 'paid', paymentId: payment.paymentId, paidAt: now, updatedAt: now },
      changed: true,
    };
  }

  return {
    get,
    markPaid,

    /**
     * The caller's cart as an order. `precondition` throws to refuse the cart as it is now
     * (If-Match against the cart's ETag).
     */
    async checkout(userId: string, requestId?: string, precondition?: (cart: Cart) => void): Promise<Order> {
      const cart = await carts.get(userId);
      precondition?.(cart);
      if (cart.items.length === 0) throw errors.CART_EMPTY('The cart is empty: add products before ordering');

      // Priced outside the transaction: no lock is held while the catalog is asked.
      const products = await Promise.all(
        cart.items.map((item) => catalog.getProduct(item.productId, requestId)),
      );
      const priced = cart.items.map((item, i) => {
        const product = products[i] as CatalogProduct | null;
        if (!product) throw errors.PRODUCT_NOT_FOUND(`Product with id ${item.productId} no longer exists`);
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
      const id = uuidv7();
      const items: OrderItemsTable[] = priced.map(({ item, product }, position) => ({
        order_id: id,
        position,
        product_id: product.id,
        category_id: product.categoryId,
        name: product.name,
        unit_price_minor: product.priceMinor,
        quantity: item.quantity,
        line_total_minor: product.priceMinor * item.quantity,
      }));
      const row: OrdersTable = {
        id,
        user_id: userId,
        status: 'pending',
        currency,
        total_minor: items.reduce((sum, item) => sum + item.line_total_minor, 0),
        payment_id: null,
        created_at: now,
        updated_at: now,
        paid_at: null,
        fulfilled_at: null,
        cancelled_at: null,
      };

      await db.transaction().execute(async (trx) => {
        const cartRows = cartsTable(trx);
        // The claim: only the checkout that still sees the version it priced goes on.
        if (!(await cartRows.claim(userId, cart.version, now))) {
          throw errors.CART_CHANGED(
            'The cart changed while the order was being placed (another checkout or an edit); review it and try again',
          );
        }
        await ordersTable(trx).insert(row, items);
        await cartRows.empty(userId);
      });
      const order = toOrder(row, items);
      publish(eventOf('order.placed', order, now));
      return order;
    },

    async list(caller: Caller, query: ListQuery): Promise<{ orders: Order[]; total: number }> {
      const asked = query.userId;
      if (asked !== undefined && asked !== caller.userId && !caller.admin) {
        throw errors.FORBIDDEN_USER("Only admins may read another user's orders");
      }
      const userId = asked ?? (caller.admin ? undefined : caller.userId);
      const filter = { userId, status: query.status };
      const [total, rows] = await Promise.all([
        orders.count(filter),
        orders.list(filter, query.limit, (query.page - 1) * query.limit),
      ]);
      const items = Map.groupBy(await orders.items(rows.map((row) => row.id)), (item) => item.order_id);
      return { orders: rows.map((row) => toOrder(row, items.get(row.id) ?? [])), total };
    },

    async cancel(id: string, caller: Caller): Promise<Order> {
      const order = await transition(id, caller, 'pending', 'cancelled', (now) => ({ cancelled_at: now }));
      publish(eventOf('order.cancelled', order, order.updatedAt));
      return order;
    },

    async fulfil(id: string, caller: Caller): Promise<Order> {
      return transition(id, caller, 'paid', 'fulfilled', (now) => ({ fulfilled_at: now }));
    },
  };
}
