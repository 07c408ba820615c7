/**
 * RFC 6750 §3: bearer-token failures carry `WWW-Authenticate: Bearer error="…"`
 * beside our problem+json body, so OAuth clients and people both get an answer.
 * RFC 9449 §7.1: a request with the DPoP scheme is answered with a `DPoP` challenge instead,
 * naming the proof algorithms accepted (`algs`); a bad proof is `invalid_dpop_proof`.
 */
import { ProblemError } from '@portico/problem';

export type BearerError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  /** RFC 9470: the token is fine, how its user signed in is not enough (step-up.ts). */
  | 'insufficient_user_authentication';

/** The authorization scheme a challenge is for. */
export type AuthScheme = 'Bearer' | 'DPoP';

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
  invalid_dpop_proof: { code: 'INVALID_DPOP_PROOF', status: 401, title: 'Unauthorized' },
} as const;

export interface AuthErrorOptions {
  scope?: string;
  /** RFC 9470 `acr_values`: the authentication level a step-up must reach. */
  acrValues?: string;
  cause?: unknown;
  /** @default 'Bearer' */
  scheme?: AuthScheme;
  /** DPoP proof algorithms accepted, for the `algs` parameter of a DPoP challenge. */
  algs?: readonly string[];
}

export class AuthError extends ProblemError {
  readonly error: BearerError | undefined;
  readonly scheme: AuthScheme;

  /** `error` undefined: no credentials at all, which RFC 6750 answers without an error code. */
  constructor(error: BearerError | undefined, description: string, options: AuthErrorOptions = {}) {
    const spec = error
      ? SPECS[error]
      : { code: 'AUTHENTICATION_REQUIRED', status: 401, title: 'Unauthorized' };
    const scheme = options.scheme ?? (error === 'invalid_dpop_proof' ? 'DPoP' : 'Bearer');
    const params = [`realm="${REALM}"`];
    if (error) params.push(`error="${error}"`, `error_description="${description.replaceAll('"', "'")}"`);
    if (options.scope) params.push(`scope="${options.scope}"`);
    if (options.acrValues) params.push(`acr_values="${options.acrValues}"`);
    if (scheme === 'DPoP' && options.algs?.length) params.push(`algs="${options.algs.join(' ')}"`);
    super(spec.code, spec.status, spec.title, {
      detail: description,
      headers: { 'www-authenticate': `${scheme} ${params.join(', ')}` },
      cause: options.cause,
    });
    this.name = 'AuthError';
    this.error = error;
    this.scheme = scheme;
  }
}
