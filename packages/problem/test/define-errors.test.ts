import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineErrors, reasonPhrase } from '@portico/problem';

test('a code given only its status is titled with the status’s reason phrase, RFC 9110’s names', () => {
  const errors = defineErrors({
    THING_NOT_FOUND: 404,
    THING_TOO_BIG: 413,
    THING_INVALID: 422,
    THING_CHANGED: { status: 409, title: 'Thing Changed' },
  });
  assert.deepEqual(errors.THING_NOT_FOUND('No thing 7').toProblem('req-1'), {
    type: 'https://portico.dev/problems/thing-not-found',
    title: 'Not Found',
    status: 404,
    detail: 'No thing 7',
    code: 'THING_NOT_FOUND',
    request_id: 'req-1',
  });
  assert.equal(errors.THING_TOO_BIG().title, 'Content Too Large');
  assert.equal(errors.THING_INVALID().title, 'Unprocessable Content');
  const changed = errors.THING_CHANGED();
  assert.equal(changed.status, 409);
  assert.equal(changed.title, 'Thing Changed');
});

test('reasonPhrase names a status Node knows, and says the number of one it does not', () => {
  assert.equal(reasonPhrase(503), 'Service Unavailable');
  assert.equal(reasonPhrase(599), 'HTTP 599');
});
