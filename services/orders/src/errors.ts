/** The orders service's stable error codes (problem+json `code`). */
import { defineErrors } from '@portico/problem';

export const errors = defineErrors({
  PRODUCT_NOT_FOUND: { status: 422, title: 'Unknown Product' },
  PRODUCT_OUT_OF_STOCK: { status: 409, title: 'Product Out of Stock' },
  CURRENCY_MISMATCH: { status: 422, title: 'Currency Mismatch' },
  CART_ITEM_NOT_FOUND: 404,
  CART_EMPTY: { status: 422, title: 'Cart Empty' },
  CART_FULL: { status: 422, title: 'Cart Full' },
  CART_CHANGED: { status: 409, title: 'Cart Changed' },
  ORDER_NOT_FOUND: 404,
  INVALID_STATE_TRANSITION: { status: 409, title: 'Invalid State Transition' },
  AMOUNT_MISMATCH: { status: 422, title: 'Amount Mismatch' },
  ALREADY_PAID_BY_OTHER_PAYMENT: { status: 409, title: 'Already Paid' },
  FORBIDDEN_USER: 403,
  CATALOG_UNAVAILABLE: 503,
});
