/**
 * The catalog's price rules on top of @portico/money: a price is a decimal greater
 * than 0 with at most two places, below a sanity ceiling; refusals are INVALID_PRICE.
 */
import { decimalToMinor } from '@portico/money';
import { errors } from '../errors.ts';

export { formatMoney as formatPrice, toDecimal } from '@portico/money';

export const CURRENCY = 'USD';
/** Ten million in the major unit: far above any catalog price, far below 2^53 minor units. */
const MAX_MINOR = 10_000_000_00;

export function parsePrice(input: unknown): number {
  const result = decimalToMinor(input);
  if ('error' in result) {
    throw invalid(
      result.error === 'too-precise'
        ? 'Price must have at most 2 decimal places'
        : 'Price must be a decimal number, e.g. 19.99',
    );
  }
  if (result.minor <= 0) throw invalid('Price must be greater than 0');
  if (result.minor > MAX_MINOR) throw invalid(`Price must be at most ${MAX_MINOR / 100}`);
  return result.minor;
}

function invalid(detail: string) {
  return errors.INVALID_PRICE(detail, {
    extensions: { errors: [{ field: 'price', code: 'INVALID_PRICE', message: detail }] },
  });
}
