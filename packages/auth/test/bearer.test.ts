import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthError, parseBearer } from '../src/index.ts';

describe('parseBearer (RFC 6750 §2.1, RFC 9110 §11.1)', () => {
  test('the scheme is case-insensitive; spaces between scheme and token are allowed', () => {
    for (const header of ['Bearer abc.def-_~+/=', 'bearer abc.def-_~+/=', 'BEARER  abc.def-_~+/=']) {
      assert.equal(parseBearer(header), 'abc.def-_~+/=');
    }
  });

  test('no header is no token', () => {
    assert.equal(parseBearer(undefined), undefined);
  });

  test('another scheme, a missing token, two tokens or a repeated header are invalid_request', () => {
    for (const header of [
      'Basic YTpi',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearera',
      'Bearer a,b',
      ['Bearer a', 'Bearer b'],
    ]) {
      assert.throws(
        () => parseBearer(header),
        (error: unknown) => error instanceof AuthError && error.error === 'invalid_request',
        String(header),
      );
    }
  });
});
