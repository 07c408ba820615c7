/**
 * Money inside Portico is an integer count of minor units (cents); the wire carries
 * decimals. Conversions go through the decimal text, never through float arithmetic,
 * so 19.99 is 1999 cents and 0.1 + 0.2 is refused rather than rounded.
 */

export const MINOR_DIGITS = 2;
const SCALE = 10 ** MINOR_DIGITS;
const DECIMAL = /^(-?)(\d{1,13})(?:\.(\d+))?$/;

export type MinorResult = { minor: number } | { error: 'not-a-decimal' | 'too-precise' };

/**
 * Reads a decimal amount (a JSON number or its text) as minor units. Trailing zeros
 * past the second place are fine ("5.500"); anything finer is `too-precise`.
 * @example decimalToMinor('19.99') // { minor: 1999 }
 */
export function decimalToMinor(input: unknown): MinorResult {
  const text =
    typeof input === 'number'
      ? Number.isFinite(input)
        ? String(input)
        : ''
      : typeof input === 'string'
        ? input.trim()
        : '';
  const match = DECIMAL.exec(text);
  if (!match) return { error: 'not-a-decimal' };
  const [, sign, whole = '', fraction = ''] = match;
  if (/[^0]/.test(fraction.slice(MINOR_DIGITS))) return { error: 'too-precise' };
  const minor = Number(whole) * SCALE + Number(fraction.slice(0, MINOR_DIGITS).padEnd(MINOR_DIGITS, '0'));
  return { minor: sign ? -minor : minor };
}

/** A JSON amount from another service (19.99) as minor units; throws RangeError on anything else. */
export function toMinor(amount: number): number {
  const result = decimalToMinor(amount);
  if ('error' in result)
    throw new RangeError(`not an amount with at most ${MINOR_DIGITS} decimals: ${amount}`);
  return result.minor;
}

/** 1999 → "19.99": the exact decimal text of an integer amount. */
function decimalText(minor: number): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an integer amount: ${minor}`);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.trunc(abs / SCALE)}.${String(abs % SCALE).padStart(MINOR_DIGITS, '0')}`;
}

/** 1999 → 19.99, built from the digits so the JSON number is exactly the decimal. */
export function toDecimal(minor: number): number {
  return Number(decimalText(minor));
}

const formats = new Map<string, Intl.NumberFormat>();

/**
 * 123456 → "$1,234.56" (the seed's formattedPrice), by `Intl.NumberFormat` in `locale`.
 * It is given the decimal text, which it formats exactly (no float in between).
 */
export function formatMoney(minor: number, currency = 'USD', locale = 'en-US'): string {
  const key = `${locale} ${currency}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formats.set(key, format);
  }
  // A string is formatted as the decimal it spells (ECMA-402 Intl.NumberFormat v3).
  return format.format(decimalText(minor) as unknown as number);
}
