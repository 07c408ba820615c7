import { defineErrors } from '@portico/problem';

/** The users service's stable error codes. */
export const errors = defineErrors({
  USER_NOT_FOUND: 404,
  NOT_YOUR_PROFILE: 403,
  PROFILE_CHANGED: 409,
});
