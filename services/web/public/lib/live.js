// @ts-check
/**
 * Live product changes from `/events/products` (server-sent events). Each `product` event is
 * a product in the REST shape, as every view already shows (the BFF maps the subscription's).
 */
/** @import { Product } from './types.js' */
import { byId } from './dom.js';
import { money } from './format.js';

/** @typedef {(product: Product) => void} ProductListener */

/** The current view's handler for live product changes (the router clears it on navigation). */
let onProduct = /** @type {ProductListener | null} */ (null);

/** @param {ProductListener | null} listener */
export function onLiveProduct(listener) {
  onProduct = listener;
}

export function liveProductListener() {
  return onProduct;
}

export function connectLive() {
  const status = byId('live-status');
  const source = new EventSource('/events/products');
  source.addEventListener('ready', () => {
    status.textContent = 'Live updates: on';
    document.body.dataset.live = 'on';
  });
  source.addEventListener('product', (event) => {
    onProduct?.(/** @type {Product} */ (JSON.parse(event.data)));
  });
  source.addEventListener('problem', () => {
    status.textContent = 'Live updates: unavailable, retrying…';
    document.body.dataset.live = 'off';
  });
  source.onerror = () => {
    status.textContent = 'Live updates: reconnecting…';
    document.body.dataset.live = 'off';
  };
}

/**
 * Updates every price and stock shown for this product, wherever it is on the page.
 * @param {Product} product
 */
export function applyLive(product) {
  for (const el of document.querySelectorAll(`[data-price-for="${CSS.escape(product.id)}"]`)) {
    el.textContent = money(product.price, product.currency);
  }
  for (const el of document.querySelectorAll(`[data-stock-for="${CSS.escape(product.id)}"]`)) {
    el.textContent = product.in_stock ? 'In stock' : 'Out of stock';
  }
}
