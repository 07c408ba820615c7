import { defineErrors } from '@portico/problem';

/** The console's stable error codes (the BFF's own; the API's pass through unchanged). */
export const errors = defineErrors({
  LOGIN_REQUIRED: { status: 401, title: 'Unauthorized' },
  SESSION_EXPIRED: { status: 401, title: 'Unauthorized' },
  CSRF_TOKEN_INVALID: { status: 403, title: 'Forbidden' },
  ORIGIN_NOT_ALLOWED: { status: 403, title: 'Forbidden' },
  IDENTITY_UNAVAILABLE: { status: 503, title: 'Service Unavailable' },
  GATEWAY_UNAVAILABLE: { status: 502, title: 'Bad Gateway' },
});
