/**
 * RFC 9457 problem details. Every package defines its catalogue of stable codes
 * with `defineErrors`; the HTTP kit turns any `ProblemError` into one wire shape.
 */

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

export interface ErrorSpec {
  status: number;
  title: string;
}

export type ErrorFactory = (detail?: string, options?: Omit<ProblemOptions, 'detail'>) => ProblemError;

/**
 * Builds a package's error catalogue: one factory per stable code.
 * @example
 * const errors = defineErrors({ PRODUCT_NOT_FOUND: { status: 404, title: 'Not Found' } });
 * throw errors.PRODUCT_NOT_FOUND(`Product with id ${id} not found`);
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(
  specs: T,
): { [K in keyof T]: ErrorFactory } {
  const out = {} as { [K in keyof T]: ErrorFactory };
  for (const code of Object.keys(specs) as (keyof T & string)[]) {
    const spec = specs[code]!;
    out[code] = (detail, options = {}) =>
      new ProblemError(code, spec.status, spec.title, { ...options, detail });
  }
  return out;
}

/** Errors every HTTP service can raise, whatever its domain. */
export const commonErrors = defineErrors({
  VALIDATION_ERROR: { status: 400, title: 'Validation Error' },
  MISSING_FIELD: { status: 400, title: 'Validation Error' },
  UNKNOWN_FIELD: { status: 400, title: 'Validation Error' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not Found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method Not Allowed' },
  NOT_ACCEPTABLE: { status: 406, title: 'Not Acceptable' },
  CONFLICT: { status: 409, title: 'Conflict' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition Failed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload Too Large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported Media Type' },
  UNPROCESSABLE_CONTENT: { status: 422, title: 'Unprocessable Content' },
  PRECONDITION_REQUIRED: { status: 428, title: 'Precondition Required' },
  TOO_MANY_REQUESTS: { status: 429, title: 'Too Many Requests' },
  INTERNAL_ERROR: { status: 500, title: 'Internal Server Error' },
  BAD_GATEWAY: { status: 502, title: 'Bad Gateway' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service Unavailable' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'Service Unavailable' },
  GATEWAY_TIMEOUT: { status: 504, title: 'Gateway Timeout' },
});

export function isProblemError(err: unknown): err is ProblemError {
  return err instanceof ProblemError;
}
