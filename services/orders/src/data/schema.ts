/** Row types of the orders service's own tables (see migrations/). */
import type { Migration } from '@portico/store/sql';
import * as cartAndOrders from '../../migrations/001_cart_and_orders.ts';

export interface CartsTable {
  user_id: string;
  version: number;
  updated_at: string;
}

export interface CartItemsTable {
  id: string;
  user_id: string;
  product_id: string;
  name: string;
  unit_price_minor: number;
  currency: string;
  quantity: number;
  added_at: string;
}

export type OrderStatus = 'pending' | 'paid' | 'fulfilled' | 'cancelled';

export interface OrdersTable {
  id: string;
  user_id: string;
  status: OrderStatus;
  currency: string;
  total_minor: number;
  payment_id: string | null;
  created_at: string;
  updated_at: string;
  paid_at: string | null;
  fulfilled_at: string | null;
  cancelled_at: string | null;
}

export interface OrderItemsTable {
  order_id: string;
  position: number;
  product_id: string;
  category_id: string | null;
  name: string;
  unit_price_minor: number;
  quantity: number;
  line_total_minor: number;
}

export interface OrdersDb {
  carts: CartsTable;
  cart_items: CartItemsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
}

export type CartItemRow = CartItemsTable;
export type OrderRow = OrdersTable;
export type OrderItemRow = OrderItemsTable;

export const migrations: Record<string, Migration> = {
  '001_cart_and_orders': cartAndOrders,
};
