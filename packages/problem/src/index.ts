/**
 * RFC 9457 problem details. Every package defines its catalogue of stable codes
 * with `defineErrors`; the HTTP kit turns any `ProblemError` into one wire shape.
 */

import { STATUS_CODES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  request_id?: string;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  detail?: string;
  /** Extension members (RFC 9457 §3.2), e.g. `errors` for field-level details. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class ProblemError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;
  /** 4xx details are meant for the client; 5xx details stay in the logs. */
  readonly expose: boolean;

  constructor(code: string, status: number, title: string, options: ProblemOptions = {}) {
    super(options.detail ?? title, { cause: options.cause });
    this.name = 'ProblemError';
    this.code = code;
    this.status = status;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
    this.expose = status < 500;
  }

  toProblem(requestId?: string, instance?: string): ProblemBody {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      ...(this.expose ? { detail: this.message } : {}),
      ...(instance ? { instance } : {}),
      code: this.code,
      ...(requestId ? { request_id: requestId } : {}),
      ...(this.expose ? this.extensions : {}),
    };
  }
}

export function problemType(code: string): string {
  return `https://portico.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

/**
 * A code's status, or its status and a title of its own where the status's reason phrase
 * would say less (`{ status: 409, title: 'Cart Changed' }`).
 */
export type ErrorSpec = number | { status: number; title: string };

export type ErrorFactory = (detail?: string, options?: Omit<ProblemOptions, 'detail'>) => ProblemError;

/** Where Node's table still has RFC 7231's phrase, RFC 9110's (§15.5.14, §15.5.21). */
const RFC_9110_PHRASES: Record<number, string> = { 413: 'Content Too Large', 422: 'Unprocessable Content' };

/** The reason phrase of an HTTP status (RFC 9110 §15): a problem's title when it has none of its own. */
export function reasonPhrase(status: number): string {
  return RFC_9110_PHRASES[status] ?? STATUS_CODES[status] ?? `HTTP ${status}`;
}

/**
 * Builds a package's error catalogue: one factory per stable code.
 * @example
 * const errors = defineErrors({ PRODUCT_NOT_FOUND: 404, CART_CHANGED: { status: 409, title: 'Cart Changed' } });
 * throw errors.PRODUCT_NOT_FOUND(`Product with id ${id} not found`);
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(
  specs: T,
): { [K in keyof T]: ErrorFactory } {
  const out = {} as { [K in keyof T]: ErrorFactory };
  for (const code of Object.keys(specs) as (keyof T & string)[]) {
    const spec = specs[code]!;
    const { status, title } = typeof spec === 'number' ? { status: spec, title: reasonPhrase(spec) } : spec;
    out[code] = (detail, options = {}) => new ProblemError(code, status, title, { ...options, detail });
  }
  return out;
}

/** Errors every HTTP service can raise, whatever its domain. */
export const commonErrors = defineErrors({
  VALIDATION_ERROR: { status: 400, title: 'Validation Error' },
  MISSING_FIELD: { status: 400, title: 'Validation Error' },
  UNKNOWN_FIELD: { status: 400, title: 'Validation Error' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON' },
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  PRECONDITION_REQUIRED: 428,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
});

export function isProblemError(err: unknown): err is ProblemError {
  return err instanceof ProblemError;
}
