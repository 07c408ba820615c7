/**
 * GraphQL errors map as REST errors do: a database that did not answer in time reaches the
 * client as DATABASE_UNAVAILABLE (503, marked as a dependency failure, so a gateway in front
 * keeps the instance), never as a masked internal error; an unknown error stays masked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseUnavailableError } from '@portico/store/sql';
import { GraphQLError } from 'graphql';
import { formatError, MASKED_MESSAGE } from '../src/graphql/errors.ts';

const fromResolver = (original: Error) =>
  new GraphQLError(original.message, { path: ['products'], originalError: original });

test('a database outage is DATABASE_UNAVAILABLE with the dependency marker; the cause stays server-side', () => {
  const internal: unknown[] = [];
  const out = formatError(fromResolver(new DatabaseUnavailableError('Query read timeout on 10.0.0.5')), (e) =>
    internal.push(e),
  );
  assert.equal(out.extensions?.code, 'DATABASE_UNAVAILABLE');
  const http = out.extensions?.http as { status: number; headers: Record<string, string> };
  assert.equal(http.status, 503);
  assert.equal(http.headers['portico-dependency-failure'], 'database');
  assert.ok(!out.message.includes('10.0.0.5'), out.message);
  assert.deepEqual(out.path, ['products']);
  assert.equal(internal.length, 0, 'an outage is not logged as a resolver bug');
});

test('an unexpected error is masked and reported', () => {
  const internal: unknown[] = [];
  const out = formatError(fromResolver(new TypeError('x is undefined at SELECT * FROM secret')), (e) =>
    internal.push(e),
  );
  assert.equal(out.message, MASKED_MESSAGE);
  assert.equal(out.extensions?.code, 'INTERNAL_SERVER_ERROR');
  assert.equal(internal.length, 1);
});
