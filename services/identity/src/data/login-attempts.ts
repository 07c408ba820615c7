/** Login-attempt counters per key and window: queries only; the counters are in domain/attempts.ts. */
import { type Executor, sql } from '@portico/store/sql';
import type { IdentityDatabase } from './schema.ts';

export function loginAttemptsTable(db: Executor<IdentityDatabase>) {
  return {
    /**
     * Counts one attempt under `key` and answers the count and the window's close, in one
     * statement (PostgreSQL locks the row for the upsert; node:sqlite runs it whole): a window
     * closed by `now` starts again at 1, closing at `resetAt`.
     */
    async add(key: string, now: number, resetAt: number): Promise<{ count: number; reset_at: number }> {
      const { rows } = await sql<{ count: number | string; reset_at: number | string }>`
        insert into login_attempts (attempt_key, count, reset_at) values (${key}, 1, ${resetAt})
        on conflict (attempt_key) do update set
          count = case when login_attempts.reset_at <= ${now} then 1 else login_attempts.count + 1 end,
          reset_at = case when login_attempts.reset_at <= ${now} then ${resetAt} else login_attempts.reset_at end
        returning count, reset_at`.execute(db);
      return { count: Number(rows[0]!.count), reset_at: Number(rows[0]!.reset_at) };
    },
    /** Takes one attempt back (never below zero). */
    async takeBack(key: string): Promise<void> {
      await db
        .updateTable('login_attempts')
        .set({ count: sql`count - 1` })
        .where('attempt_key', '=', key)
        .where('count', '>', 0)
        .execute();
    },
    async delete(key: string): Promise<void> {
      await db.deleteFrom('login_attempts').where('attempt_key', '=', key).execute();
    },
    async deleteClosedBefore(at: number): Promise<void> {
      await db.deleteFrom('login_attempts').where('reset_at', '<', at).execute();
    },
  };
}
