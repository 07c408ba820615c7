/**
 * A named lease in the service's own database: at most one holder at a time, for a bounded
 * time that the holder renews. Replicas need nothing but the database they share, and a holder
 * that dies without a word is replaced once its time runs out.
 */
import type { Database } from '@portico/store/sql';
import { leasesTable } from '../data/leases.ts';
import type { PaymentsDatabase } from '../data/schema.ts';

export interface LeaseOptions {
  /** Which lease (one row per name). */
  name: string;
  /** Who this replica is: unique among the replicas. */
  holder: string;
  /** How long a take() holds it; the holder renews within this. */
  ttlMs: number;
}

export interface LeaseService {
  readonly holder: string;
  /** Whether the last take() got (or kept) the lease. */
  readonly held: boolean;
  /** Takes the lease when it is free or expired, renews it when already held. */
  take(): Promise<boolean>;
  /** Lets the next replica take over at once instead of after the expiry. */
  release(): Promise<void>;
}

export function createLeaseService(
  database: Database<PaymentsDatabase>,
  options: LeaseOptions,
): LeaseService {
  const leases = leasesTable(database.db, database.dialect);
  const { name, holder, ttlMs } = options;
  let created = false;
  let held = false;
  return {
    holder,
    get held() {
      return held;
    },
    async take() {
      if (!created) {
        await leases.create(name);
        created = true;
      }
      held = await leases.take(name, holder, ttlMs);
      return held;
    },
    async release() {
      if (!held) return;
      held = false;
      await leases.expire(name, holder);
    },
  };
}
