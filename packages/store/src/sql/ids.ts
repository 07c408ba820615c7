import { v7 } from 'uuid';

/**
 * UUIDv7 (RFC 9562 §5.7): time-ordered, so primary-key order is creation order and keyset
 * pagination on the id alone is stable and index-only. Ids made by one process are strictly
 * increasing, within one millisecond too (`uuid` keeps a per-millisecond counter, §6.2 method 2).
 * `now` sets the time (demo data spreads its rows over time); such ids order by that time only.
 */
export function uuidv7(now?: number): string {
  return now === undefined ? v7() : v7({ msecs: now });
}
