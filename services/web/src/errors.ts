import { defineErrors } from '@portico/problem';

/** The console's stable error codes (the BFF's own; the API's pass through unchanged). */
export const errors = defineErrors({
  LOGIN_REQUIRED: 401,
  SESSION_EXPIRED: 401,
  CSRF_TOKEN_INVALID: 403,
  ORIGIN_NOT_ALLOWED: 403,
  IDENTITY_UNAVAILABLE: 503,
  GATEWAY_UNAVAILABLE: 502,
});
