/** The domain's product actions as REST requests: method, URL and the body to send. */
import { type ProductAction, productActions } from '../domain/actions.ts';
import type { Product } from '../domain/products.ts';
import { productJson } from './serialize.ts';

export interface Action {
  name: ProductAction;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  href: string;
  body?: Record<string, unknown>;
}

const requests: Record<ProductAction, (product: Product, self: string) => Omit<Action, 'name'>> = {
  add_to_cart: (product) => ({
    method: 'POST',
    href: '/api/v1/cart/items',
    body: { product_id: product.id, quantity: 1 },
  }),
  mark_out_of_stock: (_, self) => ({ method: 'PATCH', href: self, body: { in_stock: false } }),
  mark_in_stock: (_, self) => ({ method: 'PATCH', href: self, body: { in_stock: true } }),
  update: (product, self) => ({ method: 'PUT', href: self, body: productJson(product) }),
  delete: (_, self) => ({ method: 'DELETE', href: self }),
};

export function productActionsJson(product: Product, canWrite: boolean): Action[] {
  const self = `/api/v1/products/${product.id}`;
  return productActions(product, canWrite).map((name) => ({ name, ...requests[name](product, self) }));
}
