/**
 * RFC 6750 §3: bearer-token failures carry `WWW-Authenticate: Bearer error="…"`
 * beside our problem+json body, so OAuth clients and people both get an answer.
 */
import { ProblemError } from '@portico/problem';

export type BearerError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  /** RFC 9470: the token is fine, how its user signed in is not enough (step-up.ts). */
  | 'insufficient_user_authentication';

const REALM = 'portico';

const SPECS = {
  invalid_request: { code: 'INVALID_REQUEST', status: 400, title: 'Bad Request' },
  invalid_token: { code: 'INVALID_TOKEN', status: 401, title: 'Unauthorized' },
  insufficient_scope: { code: 'INSUFFICIENT_SCOPE', status: 403, title: 'Forbidden' },
  insufficient_user_authentication: {
    code: 'INSUFFICIENT_USER_AUTHENTICATION',
    status: 403,
    title: 'Forbidden',
  },
} as const;

export class AuthError extends ProblemError {
  readonly error: BearerError | undefined;

  /** `error` undefined: no credentials at all, which RFC 6750 answers without an error code. */
  constructor(
    error: BearerError | undefined,
    description: string,
    options: { scope?: string; acrValues?: string; cause?: unknown } = {},
  ) {
    const spec = error
      ? SPECS[error]
      : { code: 'AUTHENTICATION_REQUIRED', status: 401, title: 'Unauthorized' };
    const params = [`realm="${REALM}"`];
    if (error) params.push(`error="${error}"`, `error_description="${description.replaceAll('"', "'")}"`);
    if (options.scope) params.push(`scope="${options.scope}"`);
    if (options.acrValues) params.push(`acr_values="${options.acrValues}"`);
    super(spec.code, spec.status, spec.title, {
      detail: description,
      headers: { 'www-authenticate': `Bearer ${params.join(', ')}` },
      cause: options.cause,
    });
    this.name = 'AuthError';
    this.error = error;
  }
}
