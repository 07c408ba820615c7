/**
 * GraphQL errors speak the same codes as REST: a ProblemError thrown by the domain or by
 * @portico/auth becomes an error with `extensions.code` and `extensions.http` (status, and
 * `WWW-Authenticate` for bearer failures), and other errors are mapped as REST maps them
 * (`toProblemError`). Anything unexpected is masked: no message, stack or SQL from an
 * internal error ever reaches a client.
 */
import { toProblemError } from '@portico/http';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const MASKED_MESSAGE = 'Unexpected error.';

const INTERNAL = { code: 'INTERNAL_SERVER_ERROR', http: { status: 500 } };

/** Message, locations and path as the error has them (graphql-js or graphql-jit), new extensions. */
function shaped(error: GraphQLError, message: string, extensions: Record<string, unknown>) {
  const out: GraphQLFormattedError = { message };
  if (error.locations) (out as { locations: unknown }).locations = error.locations;
  if (error.path) (out as { path: unknown }).path = error.path;
  return { ...out, extensions };
}

/**
 * The one error formatter for HTTP, WebSocket and SSE. GraphQL's own errors (syntax,
 * validation, variable coercion, our limits) are for the client and pass as they are.
 */
export function formatError(error: unknown, onInternal?: (error: unknown) => void): GraphQLFormattedError {
  if (!(error instanceof GraphQLError)) {
    onInternal?.(error);
    return { message: MASKED_MESSAGE, extensions: INTERNAL };
  }
  const original = error.originalError;
  if (original === undefined || original === null) return error.toJSON();
  // A resolver's own GraphQLError, wrapped by the executor: its message and extensions stand.
  if (original instanceof GraphQLError) return shaped(error, original.message, { ...original.extensions });
  // The REST path's mapping: a database that did not answer in time is DATABASE_UNAVAILABLE
  // (503, marked as a dependency failure), anything unknown an internal error.
  const problem = toProblemError(original);
  if (problem.status === 500) {
    onInternal?.(problem.cause ?? original);
    return shaped(error, MASKED_MESSAGE, INTERNAL);
  }
  const http: { status: number; headers?: Record<string, string> } = { status: problem.status };
  if (Object.keys(problem.headers).length > 0) http.headers = problem.headers;
  const fieldErrors = problem.expose ? problem.extensions.errors : undefined;
  // A 5xx other than 500 says what it is by its title and code; details stay server-side.
  return shaped(error, problem.expose ? problem.message : problem.title, {
    code: problem.code,
    http,
    ...(fieldErrors ? { errors: fieldErrors } : {}),
  });
}
