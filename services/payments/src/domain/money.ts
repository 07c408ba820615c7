/**
 * Money is integer minor units (cents) everywhere inside the service. The catalog
 * sends prices as JSON numbers with at most two decimals; they are read through
 * their decimal text, never multiplied as floats.
 */

const DECIMAL = /^(\d{1,13})(?:\.(\d{1,2}))?$/;

/** 19.99 → 1999. Throws on negatives, NaN, exponents and more than two decimals. */
export function toMinor(amount: number): number {
  const match = DECIMAL.exec(String(amount));
  if (!match) throw new RangeError(`not an amount with at most two decimals: ${amount}`);
  const [, units, cents = ''] = match;
  return Number(units) * 100 + Number(cents.padEnd(2, '0'));
}

/** 1999 → 19.99, built from the digits so the JSON number is exactly the decimal. */
export function fromMinor(minor: number): number {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an integer amount: ${minor}`);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return Number(`${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`);
}
