/**
 * Money is an integer count of minor units (cents) everywhere inside Portico; the
 * wire carries decimals. Parsing goes through the decimal text, never through float
 * arithmetic, so 19.99 is 1999 cents and 0.1 + 0.2 never happens.
 */
import { errors } from '../errors.ts';

export const CURRENCY = 'USD';
const MINOR_DIGITS = 2;
/** Ten million in the major unit: far above any catalog price, far below 2^53 minor units. */
const MAX_MINOR = 10_000_000 * 10 ** MINOR_DIGITS;
const DECIMAL = /^(\d{1,12})(?:\.(\d+))?$/;

export function parsePrice(input: unknown): number {
  const text =
    typeof input === 'number' ? numberText(input) : typeof input === 'string' ? input.trim() : undefined;
  const match = text === undefined ? null : DECIMAL.exec(text);
  if (!match) throw invalid('Price must be a decimal number, e.g. 19.99');
  const [, whole, fraction = ''] = match;
  if (fraction.length > MINOR_DIGITS && /[^0]/.test(fraction.slice(MINOR_DIGITS))) {
    throw invalid(`Price must have at most ${MINOR_DIGITS} decimal places`);
  }
  const minor =
    Number(whole) * 10 ** MINOR_DIGITS + Number(fraction.slice(0, MINOR_DIGITS).padEnd(MINOR_DIGITS, '0'));
  if (minor <= 0) throw invalid('Price must be greater than 0');
  if (minor > MAX_MINOR) throw invalid(`Price must be at most ${MAX_MINOR / 10 ** MINOR_DIGITS}`);
  return minor;
}

/** Minor units to the wire's JSON number: 1999 → 19.99 (the shortest round-trip text is exact here). */
export function toDecimal(minor: number): number {
  return minor / 10 ** MINOR_DIGITS;
}

/** The seed's `formattedPrice`: "$19.99", from integers, not floats. */
export function formatPrice(minor: number, currency = CURRENCY): string {
  const sign = currency === 'USD' ? '$' : `${currency} `;
  const major = Math.trunc(minor / 100).toLocaleString('en-US');
  return `${sign}${major}.${String(minor % 100).padStart(2, '0')}`;
}

function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  if (n < 0) return '-';
  // Number → shortest round-trip decimal text; exponent forms (1e-7, 1e21) are refused by the pattern.
  return String(n);
}

function invalid(detail: string) {
  return errors.INVALID_PRICE(detail, {
    extensions: { errors: [{ field: 'price', code: 'INVALID_PRICE', message: detail }] },
  });
}
