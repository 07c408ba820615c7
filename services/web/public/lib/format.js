// @ts-check

/**
 * @param {number | string} amount
 * @param {string} [currency]
 */
export function money(amount, currency = 'USD') {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

/** @param {string} name `mark_in_stock` → `Mark in stock` */
export function humanize(name) {
  const text = String(name).replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** @param {string | null | undefined} value */
export function dateTime(value) {
  return value ? new Date(value).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '';
}
