/**
 * GraphQL errors speak the same codes as REST: a ProblemError thrown by the domain or by
 * @portico/auth becomes an error with `extensions.code` and `extensions.http` (status, and
 * `WWW-Authenticate` for bearer failures). Anything unexpected is masked: no message, stack
 * or SQL from an internal error ever reaches a client.
 */
import { isProblemError } from '@portico/problem';
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
  if (isProblemError(original)) {
    if (!original.expose) {
      onInternal?.(original.cause ?? original);
      return shaped(error, MASKED_MESSAGE, INTERNAL);
    }
    const http: { status: number; headers?: Record<string, string> } = { status: original.status };
    if (Object.keys(original.headers).length > 0) http.headers = original.headers;
    const fieldErrors = original.extensions.errors;
    return shaped(error, original.message, {
      code: original.code,
      http,
      ...(fieldErrors ? { errors: fieldErrors } : {}),
    });
  }
  onInternal?.(original);
  return shaped(error, MASKED_MESSAGE, INTERNAL);
}
