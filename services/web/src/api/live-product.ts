/**
 * A live product change in the console's one product shape. The gateway's subscription
 * sends the catalog's GraphQL `Product` (camelCase); the browser gets the product as the REST
 * API serialises it (snake_case, services/catalog/src/api/serialize.ts), so the console's
 * script knows a single shape whichever API a product came from.
 */
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { operations } from '../../public/api/schema.generated.js';

/** The fields the subscription must select (config `live.subscription`), as GraphQL names them. */
export const LiveProductFields = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: Type.Number(),
  currency: Type.String(),
  categoryId: Type.String(),
  inStock: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const isLiveProduct = Compile(LiveProductFields);

/**
 * A product as `GET /api/v1/products/{id}` answers it (`data`), read from the gateway's published
 * contract (the console's generated types): a field the catalog renames fails tsc here too.
 */
export type RestProduct =
  operations['getProductsById']['responses'][200]['content']['application/json']['data'];

/** The REST product for a `productUpdated` event; undefined when the event lacks a field. */
export function restProduct(event: unknown): RestProduct | undefined {
  if (!isLiveProduct.Check(event)) return undefined;
  const p: Static<typeof LiveProductFields> = event;
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    price: p.price,
    currency: p.currency,
    category_id: p.categoryId,
    in_stock: p.inStock,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}
