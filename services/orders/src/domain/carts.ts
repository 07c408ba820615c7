/**
 * A cart per user. Every change bumps the cart's version in the same transaction as
 * the change itself, after taking the cart row first, so a checkout that priced
 * version N can tell, atomically, whether the cart is still exactly what it priced.
 */
import { type Database, uuidv7 } from '@portico/store/sql';
import type { CatalogClient } from '../clients/catalog.ts';
import { cartsTable } from '../data/carts.ts';
import type { CartItemsTable, OrdersDatabase } from '../data/schema.ts';
import { errors } from '../errors.ts';

export const MAX_QUANTITY = 99;
export const MAX_LINES = 50;

export interface CartItem {
  id: string;
  productId: string;
  /** As the catalog named it when the item was added. */
  name: string;
  unitPriceMinor: number;
  currency: string;
  quantity: number;
  addedAt: string;
}

export interface Cart {
  userId: string;
  version: number;
  updatedAt: string | null;
  items: CartItem[];
}

export interface AddItemInput {
  userId: string;
  productId: string;
  quantity: number;
  requestId?: string;
}

export function toCartItem(row: CartItemsTable): CartItem {
  return {
    id: row.id,
    productId: row.product_id,
    name: row.name,
    unitPriceMinor: Number(row.unit_price_minor),
    currency: row.currency,
    quantity: row.quantity,
    addedAt: row.added_at,
  };
}

export type CartService = ReturnType<typeof createCartService>;

export function createCartService(database: Database<OrdersDatabase>, catalog: CatalogClient) {
  const { db } = database;
  const carts = cartsTable(db);

  return {
    async get(userId: string): Promise<Cart> {
      const head = await carts.head(userId);
      const items = head ? await carts.items(userId) : [];
      return {
        userId,
        version: head?.version ?? 0,
        updatedAt: head?.updated_at ?? null,
        items: items.map(toCartItem),
      };
    },

    /** Adds a product (or more of one already there); the catalog must know it and have it in stock. */
    async add(input: AddItemInput): Promise<{ item: CartItem; created: boolean }> {
      const product = await catalog.getProduct(input.productId, input.requestId);
      if (!product) throw errors.PRODUCT_NOT_FOUND(`Product with id ${input.productId} not found`);
      if (!product.inStock) throw errors.PRODUCT_OUT_OF_STOCK(`Product ${product.name} is out of stock`);

      return db.transaction().execute(async (trx) => {
        const cart = cartsTable(trx);
        const now = new Date().toISOString();
        await cart.touch(input.userId, now);
        const lines = await cart.items(input.userId);
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
          const row = await cart.updateItem(input.userId, existing.id, {
            quantity,
            name: product.name,
            unit_price_minor: product.priceMinor,
          });
          return { item: toCartItem(row!), created: false };
        }
        if (lines.length >= MAX_LINES) throw errors.CART_FULL(`A cart holds at most ${MAX_LINES} products`);
        const row = await cart.insertItem({
          id: uuidv7(),
          user_id: input.userId,
          product_id: product.id,
          name: product.name,
          unit_price_minor: product.priceMinor,
          currency: product.currency,
          quantity: input.quantity,
          added_at: now,
        });
        return { item: toCartItem(row), created: true };
      });
    },

    async setQuantity(userId: string, itemId: string, quantity: number): Promise<CartItem> {
      return db.transaction().execute(async (trx) => {
        const cart = cartsTable(trx);
        await cart.touch(userId, new Date().toISOString());
        const row = await cart.updateItem(userId, itemId, { quantity });
        if (!row) throw errors.CART_ITEM_NOT_FOUND(`Cart item ${itemId} not found`);
        return toCartItem(row);
      });
    },

    async remove(userId: string, itemId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const cart = cartsTable(trx);
        await cart.touch(userId, new Date().toISOString());
        if (!(await cart.deleteItem(userId, itemId))) {
          throw errors.CART_ITEM_NOT_FOUND(`Cart item ${itemId} not found`);
        }
      });
    },
  };
}
