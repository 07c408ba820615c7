import { defineErrors } from '@portico/problem';

/** The catalog's stable error codes; the seed's names where it has one. */
export const errors = defineErrors({
  PRODUCT_NOT_FOUND: { status: 404, title: 'Not Found' },
  CATEGORY_NOT_FOUND: { status: 404, title: 'Not Found' },
  UNKNOWN_CATEGORY: { status: 422, title: 'Unprocessable Content' },
  CATEGORY_EXISTS: { status: 409, title: 'Conflict' },
  CATEGORY_NOT_EMPTY: { status: 409, title: 'Conflict' },
  INVALID_PRICE: { status: 400, title: 'Validation Error' },
  INVALID_CURSOR: { status: 400, title: 'Validation Error' },
  PAGE_TOO_DEEP: { status: 400, title: 'Validation Error' },
  VERSION_CONFLICT: { status: 412, title: 'Precondition Failed' },
});
