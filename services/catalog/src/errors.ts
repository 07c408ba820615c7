import { defineErrors } from '@portico/problem';

/** The catalog's stable error codes; the seed's names where it has one. */
export const errors = defineErrors({
  PRODUCT_NOT_FOUND: 404,
  CATEGORY_NOT_FOUND: 404,
  UNKNOWN_CATEGORY: 422,
  CATEGORY_EXISTS: 409,
  CATEGORY_NOT_EMPTY: 409,
  INVALID_PRICE: { status: 400, title: 'Validation Error' },
  INVALID_CURSOR: { status: 400, title: 'Validation Error' },
  PAGE_TOO_DEEP: { status: 400, title: 'Validation Error' },
  PAGINATION_CONFLICT: { status: 400, title: 'Validation Error' },
  VERSION_CONFLICT: 412,
});
