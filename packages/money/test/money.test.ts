import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decimalToMinor, formatMoney, toDecimal, toMinor } from '../src/index.ts';

test('decimals become exact minor units through their text', () => {
  assert.deepEqual(decimalToMinor(19.99), { minor: 1999 });
  assert.deepEqual(decimalToMinor('19.99'), { minor: 1999 });
  assert.deepEqual(decimalToMinor(0.1), { minor: 10 });
  assert.deepEqual(decimalToMinor('5.500'), { minor: 550 });
  assert.deepEqual(decimalToMinor(-2.5), { minor: -250 });
  assert.deepEqual(decimalToMinor(0.1 + 0.2), { error: 'too-precise' });
  assert.deepEqual(decimalToMinor(19.999), { error: 'too-precise' });
  for (const bad of ['abc', '', '1e3', 1e21, Number.NaN, Number.POSITIVE_INFINITY, null, {}, '1.2.3']) {
    assert.deepEqual(decimalToMinor(bad), { error: 'not-a-decimal' }, String(bad));
  }
});

test('toMinor and toDecimal round-trip; formatMoney uses integers', () => {
  for (const amount of [0, 0.01, 0.1, 19.99, 1234567.89]) assert.equal(toDecimal(toMinor(amount)), amount);
  assert.throws(() => toMinor(0.125), RangeError);
  assert.throws(() => toDecimal(1.5), RangeError);
  assert.equal(toDecimal(-1999), -19.99);
  assert.equal(formatMoney(123456), '$1,234.56');
  assert.equal(formatMoney(5), '$0.05');
  assert.equal(formatMoney(-250, 'EUR'), '-€2.50');
  assert.equal(
    formatMoney(900_719_925_474_099, 'USD'),
    '$9,007,199,254,740.99',
    'exact past float precision',
  );
  assert.equal(formatMoney(123456, 'EUR', 'de-DE'), '1.234,56\u00a0€');
  assert.throws(() => formatMoney(1.5), RangeError);
});
