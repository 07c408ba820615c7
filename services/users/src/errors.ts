import { defineErrors } from '@portico/problem';

/** The users service's stable error codes. */
export const errors = defineErrors({
  USER_NOT_FOUND: { status: 404, title: 'Not Found' },
  NOT_YOUR_PROFILE: { status: 403, title: 'Forbidden' },
  PROFILE_CHANGED: { status: 409, title: 'Conflict' },
});
