/**
 * The catalog, seen from the orders service: one product by id, through the common service
 * client (one time budget, the catalog's own `ProductEnvelope` schema checked on every answer).
 * The catalog not answering, a 5xx or a body that is not a product is CATALOG_UNAVAILABLE
 * (503 marked `catalog`), and nothing is written. Ids are checked by the route's schema
 * (uuid) before they get here.
 */
import { ProductEnvelope } from '@portico/catalog/schemas';
import { createServiceClient, dependencyFailure } from '@portico/http';
import { decimalToMinor } from '@portico/money';
import { errors } from '../errors.ts';

export interface CatalogProduct {
  id: string;
  name: string;
  priceMinor: number;
  currency: string;
  categoryId: string | null;
  inStock: boolean;
}

export interface CatalogClient {
  /** The product, or null when the catalog says it does not exist. */
  getProduct(id: string, requestId?: string): Promise<CatalogProduct | null>;
  close(): Promise<void>;
}

export function createCatalogClient(options: { url: string; timeoutMs: number }): CatalogClient {
  const catalog = createServiceClient({
    name: 'catalog',
    ...options,
    unavailable: errors.CATALOG_UNAVAILABLE,
  });
  return {
    async getProduct(id, requestId) {
      const answer = await catalog.call({
        path: `/api/v1/products/${encodeURIComponent(id)}`,
        requestId,
        answers: { 200: ProductEnvelope, 404: null },
      });
      if (answer.status === 404) return null;
      const product = answer.body.data;
      const price = decimalToMinor(product.price);
      if ('error' in price) {
        throw errors.CATALOG_UNAVAILABLE('The catalog sent a price this service cannot read', {
          cause: new Error(`catalog price ${product.price} for product ${id}`),
          headers: dependencyFailure('catalog'),
        });
      }
      return {
        id: product.id,
        name: product.name,
        priceMinor: price.minor,
        currency: product.currency.toUpperCase(),
        categoryId: product.category_id,
        inStock: product.in_stock,
      };
    },
    close: () => catalog.close(),
  };
}
