/**
 * The catalog, seen from the orders service: one product by id, over HTTP, with a
 * hard time budget. When the catalog does not answer (refused connection, timeout)
 * or answers something else than a product or a clear 404 (5xx, a body that is not a
 * product), it is CATALOG_UNAVAILABLE: a 503 marked as a dependency failure, so the
 * gateway keeps this instance in rotation, and nothing is written. Ids are checked by
 * the route's schema (uuid) before they get here; anything else thrown is not the
 * catalog's doing and is rethrown as it is.
 */

import { dependencyFailure, isTransportError } from '@portico/http';
import { toMinor } from '@portico/money';
import { Agent, request } from 'undici';
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

export interface CatalogClientOptions {
  url: string;
  timeoutMs: number;
}

export function createCatalogClient({ url, timeoutMs }: CatalogClientOptions): CatalogClient {
  const base = url.replace(/\/+$/, '');
  const agent = new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
  });

  return {
    async getProduct(id, requestId) {
      const path = `${base}/api/v1/products/${encodeURIComponent(id)}`;
      let status: number;
      let body: unknown;
      try {
        const res = await request(path, {
          dispatcher: agent,
          signal: AbortSignal.timeout(timeoutMs),
          headers: { accept: 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
        });
        status = res.statusCode;
        body = status === 200 ? await res.body.json() : await res.body.dump().then(() => undefined);
      } catch (err) {
        if (!isTransportError(err) && !(err instanceof SyntaxError)) throw err;
        throw errors.CATALOG_UNAVAILABLE('The catalog did not answer in time; try again shortly', {
          cause: err,
          headers: dependencyFailure('catalog'),
        });
      }
      if (status === 404) return null;
      if (status !== 200) {
        throw errors.CATALOG_UNAVAILABLE('The catalog is not available; try again shortly', {
          cause: new Error(`catalog answered ${status} for product ${id}`),
          headers: dependencyFailure('catalog'),
        });
      }
      return parseProduct(body, id);
    },
    close: () => agent.close(),
  };
}

function parseProduct(body: unknown, id: string): CatalogProduct {
  const data = (body as { data?: Record<string, unknown> } | null)?.data;
  const ok =
    data &&
    typeof data.id === 'string' &&
    typeof data.name === 'string' &&
    typeof data.price === 'number' &&
    typeof data.in_stock === 'boolean' &&
    (data.currency === undefined || typeof data.currency === 'string') &&
    (data.category_id === undefined || data.category_id === null || typeof data.category_id === 'string');
  let priceMinor = Number.NaN;
  if (ok) {
    try {
      priceMinor = toMinor(data.price as number);
    } catch {}
  }
  if (!ok || !Number.isSafeInteger(priceMinor)) {
    throw errors.CATALOG_UNAVAILABLE('The catalog sent a product this service cannot read', {
      cause: new Error(`unexpected catalog body for product ${id}: ${JSON.stringify(body)?.slice(0, 200)}`),
      headers: dependencyFailure('catalog'),
    });
  }
  return {
    id: data.id as string,
    name: data.name as string,
    priceMinor,
    currency: ((data.currency as string | undefined) ?? 'USD').toUpperCase(),
    categoryId: (data.category_id as string | null | undefined) ?? null,
    inStock: data.in_stock as boolean,
  };
}
