/** Row types of the orders service's own tables (see migrations/). */
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

export interface OrdersTable {
  id: string;
  user_id: string;
  status: 'pending' | 'paid' | 'fulfilled' | 'cancelled';
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

export interface OrdersDatabase {
  carts: CartsTable;
  cart_items: CartItemsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
}
