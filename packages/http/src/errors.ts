/**
 * The one place where anything thrown inside a route becomes an RFC 9457 body:
 * our own ProblemErrors, Fastify's parser and validation errors, and the unknown.
 * 5xx are logged at error with the cause and its stack; a 4xx's code and detail go on the
 * request's one info line (request-log.ts), without a stack. 5xx details never leave.
 */
import {
  commonErrors,
  type ErrorFactory,
  isProblemError,
  PROBLEM_CONTENT_TYPE,
  type ProblemError,
} from '@portico/problem';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { dependencyFailure } from './dependency.ts';
import { noteProblem } from './request-log.ts';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Why a JSON body was not parsed: not JSON, or JSON with a key that could poison prototypes. */
export function bodyRefused(err: unknown): ProblemError {
  return commonErrors.MALFORMED_JSON(
    (err as Error).message === 'Object contains forbidden prototype property'
      ? 'The request body contains a forbidden property name (__proto__ or constructor.prototype)'
      : 'The request body is not valid JSON',
  );
}

export function toProblemError(err: unknown): ProblemError {
  if (isProblemError(err)) return err;
  const e = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (e.validation) return fromValidation(e.validation, e.validationContext ?? 'body');
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return commonErrors.UNSUPPORTED_MEDIA_TYPE('The request body must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return commonErrors.PAYLOAD_TOO_LARGE('The request body is larger than this endpoint accepts');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return commonErrors.MALFORMED_JSON('The request body is empty but its Content-Type says JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return commonErrors.MALFORMED_JSON('The request body is not valid JSON');
    // @portico/store's DatabaseUnavailableError (matched by code: http does not depend on store).
    case 'DATABASE_UNAVAILABLE':
      return commonErrors.DATABASE_UNAVAILABLE('The database did not answer in time', {
        cause: err,
        headers: dependencyFailure('database', 1),
      });
  }
  if (e instanceof SyntaxError && (e as FastifyError).statusCode === 400) {
    return commonErrors.MALFORMED_JSON('The request body is not valid JSON');
  }
  const status = e.statusCode ?? 500;
  const make = status >= 400 && status < 500 ? BY_STATUS.get(status) : undefined;
  if (make) return make(e.message);
  return commonErrors.INTERNAL_ERROR('An unexpected error occurred', { cause: err });
}

const BY_STATUS = new Map<number, ErrorFactory>();
for (const make of Object.values(commonErrors)) {
  const { status } = make();
  if (!BY_STATUS.has(status)) BY_STATUS.set(status, make);
}

function fromValidation(issues: ValidationIssue[], context: string): ProblemError {
  const errors = issues.map((issue) => {
    const base = issue.instancePath.slice(1).replaceAll('/', '.');
    if (issue.keyword === 'required') {
      const field = [base, issue.params.missingProperty].filter(Boolean).join('.');
      return { field, code: 'MISSING_FIELD', message: `Missing required field: ${field}` };
    }
    if (issue.keyword === 'additionalProperties') {
      const field = [base, issue.params.additionalProperty].filter(Boolean).join('.');
      return { field, code: 'UNKNOWN_FIELD', message: `Unknown field: ${field}` };
    }
    return {
      field: base || context,
      code: 'VALIDATION_ERROR',
      message: `${base || context} ${issue.message ?? 'is invalid'}`,
    };
  });
  const first = errors[0]!;
  const make =
    first.code === 'MISSING_FIELD'
      ? commonErrors.MISSING_FIELD
      : first.code === 'UNKNOWN_FIELD'
        ? commonErrors.UNKNOWN_FIELD
        : commonErrors.VALIDATION_ERROR;
  const where = context === 'body' ? '' : ` (in ${context === 'querystring' ? 'query' : context})`;
  return make(`${first.message}${where}`, { extensions: { errors } });
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError) {
  if (problem.status >= 500)
    request.log.error({ err: problem.cause ?? problem, code: problem.code }, problem.message);
  else noteProblem(request, problem.code, problem.message);
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.toProblem(request.id, request.url.split('?')[0])));
}
