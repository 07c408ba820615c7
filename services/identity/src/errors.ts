import { defineErrors } from '@portico/problem';

/** The identity service's stable error codes (account pages and the admin API). */
export const errors = defineErrors({
  ACCOUNT_NOT_FOUND: { status: 404, title: 'Not Found' },
  GRANT_NOT_FOUND: { status: 404, title: 'Not Found' },
  SESSION_NOT_FOUND: { status: 404, title: 'Not Found' },
  USERNAME_TAKEN: { status: 409, title: 'Conflict' },
  EMAIL_TAKEN: { status: 409, title: 'Conflict' },
  WEAK_PASSWORD: { status: 422, title: 'Unprocessable Content' },
  INVALID_EMAIL: { status: 422, title: 'Unprocessable Content' },
  INVALID_USERNAME: { status: 422, title: 'Unprocessable Content' },
  LINK_INVALID: { status: 400, title: 'Bad Request' },
  WRONG_PASSWORD: { status: 401, title: 'Unauthorized' },
  WRONG_CODE: { status: 401, title: 'Unauthorized' },
  SECOND_FACTOR_ALREADY_ON: { status: 409, title: 'Conflict' },
  INTERACTION_EXPIRED: { status: 400, title: 'Bad Request' },
  PASSKEY_NOT_ACCEPTED: { status: 400, title: 'Bad Request' },
  PASSKEY_ALREADY_REGISTERED: { status: 409, title: 'Conflict' },
  ACCOUNT_DISABLED: { status: 403, title: 'Forbidden' },
  SIGNUP_DISABLED: { status: 403, title: 'Forbidden' },
  CSRF_TOKEN_INVALID: { status: 403, title: 'Forbidden' },
  ORIGIN_NOT_ALLOWED: { status: 403, title: 'Forbidden' },
  CANNOT_DISABLE_SELF: { status: 409, title: 'Conflict' },
  MAILBOX_DISABLED: { status: 404, title: 'Not Found' },
  MESSAGE_NOT_FOUND: { status: 404, title: 'Not Found' },
  KEYS_IN_MEMORY: { status: 409, title: 'Conflict' },
});
