/**
 * GraphQL errors speak the same codes as REST: a ProblemError thrown by the domain or by
 * @portico/auth becomes a GraphQLError with `extensions.code` and `extensions.http`
 * (status, and `WWW-Authenticate` for bearer failures). Anything unexpected is masked:
 * no message, stack or SQL from an internal error ever reaches a client.
 */
import { isProblemError, type ProblemError } from '@portico/problem';
import { GraphQLError } from 'graphql';

export const MASKED_MESSAGE = 'Unexpected error.';

export function problemToGraphQL(problem: ProblemError, from?: GraphQLError): GraphQLError {
  const http: { status: number; headers?: Record<string, string> } = { status: problem.status };
  if (Object.keys(problem.headers).length > 0) http.headers = problem.headers;
  const fieldErrors = problem.extensions.errors;
  return new GraphQLError(problem.expose ? problem.message : MASKED_MESSAGE, {
    nodes: from?.nodes,
    source: from?.source,
    positions: from?.positions,
    path: from?.path,
    extensions: {
      code: problem.expose ? problem.code : 'INTERNAL_SERVER_ERROR',
      http,
      ...(problem.expose && fieldErrors ? { errors: fieldErrors } : {}),
    },
  });
}

/**
 * The one error formatter for HTTP, WebSocket and SSE. GraphQL's own errors (syntax,
 * validation, variable coercion, our limits) are for the client and pass as they are.
 */
export function formatError(error: unknown, onInternal?: (error: unknown) => void): GraphQLError {
  if (!(error instanceof GraphQLError)) {
    onInternal?.(error);
    return new GraphQLError(MASKED_MESSAGE, {
      extensions: { code: 'INTERNAL_SERVER_ERROR', http: { status: 500 } },
    });
  }
  const original = error.originalError;
  if (original === undefined || original === null || original instanceof GraphQLError) {
    // graphql-js wraps a resolver's GraphQLError in another; keep the inner one's extensions.
    if (original instanceof GraphQLError && original !== error)
      return new GraphQLError(original.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: original.extensions,
      });
    return error;
  }
  if (isProblemError(original)) {
    if (!original.expose) onInternal?.(original.cause ?? original);
    return problemToGraphQL(original, error);
  }
  onInternal?.(original);
  return new GraphQLError(MASKED_MESSAGE, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', http: { status: 500 } },
  });
}
