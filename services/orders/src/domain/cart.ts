/**
 * A cart per user. Every change bumps the cart's version in the same transaction as
 * the change itself, after taking the cart row first, so a checkout that priced
 * version N can tell, atomically, whether the cart is still exactly what it priced.
 */
import type { Executor, Kysely } from '@portico/store/sql';
import { uuidv7 } from '@portico/store/sql';
import type { CatalogClient } from '../data/catalog.ts';
import type { CartItemRow, OrdersDb } from '../data/schema.ts';
import { errors } from '../errors.ts';

export const MAX_QUANTITY = 99;
export const MAX_LINES = 50;

export interface Cart {
  userId: string;
  version: number;
  updatedAt: string | null;
  items: CartItemRow[];
}

export async function getCart(db: Executor<OrdersDb>, userId: string): Promise<Cart> {
  const cart = await db
    .selectFrom('carts')
    .select(['version', 'updated_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  const items = cart
    ? await db
        .selectFrom('cart_items')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('added_at')
        .orderBy('id')
        .execute()
    : [];
  return { userId, version: cart?.version ?? 0, updatedAt: cart?.updated_at ?? null, items };
}

/** Takes the cart row (creating it on first use) and bumps its version; call first in a transaction. */
async function touchCart(trx: Executor<OrdersDb>, userId: string, now: string): Promise<void> {
  await trx
    .insertInto('carts')
    .values({ user_id: userId, version: 0, updated_at: now })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  await trx
    .updateTable('carts')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('user_id', '=', userId)
    .execute();
}

export interface AddItemInput {
  userId: string;
  productId: string;
  quantity: number;
  requestId?: string;
}

/** Adds a product (or more of one already there); the catalog must know it and have it in stock. */
export async function addItem(
  db: Kysely<OrdersDb>,
  catalog: CatalogClient,
  input: AddItemInput,
): Promise<{ item: CartItemRow; created: boolean }> {
  const product = await catalog.getProduct(input.productId, input.requestId);
  if (!product) throw errors.PRODUCT_NOT_FOUND(`Product with id ${input.productId} not found`);
  if (!product.inStock) throw errors.PRODUCT_OUT_OF_STOCK(`Product ${product.name} is out of stock`);

  return db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    await touchCart(trx, input.userId, now);
    const lines = await trx
      .selectFrom('cart_items')
      .select(['id', 'product_id', 'quantity', 'currency'])
      .where('user_id', '=', input.userId)
      .execute();
    const other = lines.find((line) => line.currency !== product.currency);
    if (other) {
      throw errors.CURRENCY_MISMATCH(
        `The cart holds ${other.currency} items; ${product.name} is priced in ${product.currency}`,
      );
    }
    const existing = lines.find((line) => line.product_id === product.id);
    if (existing) {
      const quantity = existing.quantity + input.quantity;
      if (quantity > MAX_QUANTITY) {
        throw errors.CART_FULL(`At most ${MAX_QUANTITY} of one product fit in a cart`);
      }
      const item = await trx
        .updateTable('cart_items')
        .set({ quantity, name: product.name, unit_price_minor: product.priceMinor })
        .where('id', '=', existing.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { item, created: false };
    }
    if (lines.length >= MAX_LINES) throw errors.CART_FULL(`A cart holds at most ${MAX_LINES} products`);
    const item = await trx
      .insertInto('cart_items')
      .values({
        id: uuidv7(),
        user_id: input.userId,
        product_id: product.id,
        name: product.name,
        unit_price_minor: product.priceMinor,
        currency: product.currency,
        quantity: input.quantity,
        added_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { item, created: true };
  });
}

export async function setQuantity(
  db: Kysely<OrdersDb>,
  userId: string,
  itemId: string,
  quantity: number,
): Promise<CartItemRow> {
  return db.transaction().execute(async (trx) => {
    await touchCart(trx, userId, new Date().toISOString());
    const item = await trx
      .updateTable('cart_items')
      .set({ quantity })
      .where('id', '=', itemId)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
    if (!item) throw errors.CART_ITEM_NOT_FOUND(`Cart item ${itemId} not found`);
    return item;
  });
}

export async function removeItem(db: Kysely<OrdersDb>, userId: string, itemId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await touchCart(trx, userId, new Date().toISOString());
    const result = await trx
      .deleteFrom('cart_items')
      .where('id', '=', itemId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) throw errors.CART_ITEM_NOT_FOUND(`Cart item ${itemId} not found`);
  });
}
