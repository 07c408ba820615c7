/**
 * The PostgreSQL pool behind Kysely, with a budget on every wait, so a database that stops
 * answering (paused, partitioned, overloaded) costs a request a bounded time and a
 * `DatabaseUnavailableError`, never a hang:
 *
 * - `acquireTimeoutMs` bounds the wait for a pooled connection and the opening of a new one
 *   (pg-pool's `connectionTimeoutMillis` covers both);
 * - `queryTimeoutMs` is the server's `statement_timeout` (a slow statement is cancelled and its
 *   connection stays usable), and, a little later, the client's own read timeout
 *   (`query_timeout`) for a socket that never answers, which the server cannot cancel;
 * - a connection whose query timed out on the client side, or whose socket failed, is broken:
 *   whatever else is asked of it (Kysely's `rollback`) fails at once, and it is destroyed when
 *   released instead of going back to the pool with a reply still owed on it.
 *
 * Kysely is handed a facade with the two calls it makes (`connect`, `end`); each pg client is
 * wrapped once, so Kysely's per-client bookkeeping sees the same object every time.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { DatabaseUnavailableError, isUnavailable } from './unavailable.ts';

export interface PoolBudget {
  /** Pool size. */
  max: number;
  queryTimeoutMs: number;
  acquireTimeoutMs: number;
}

/** How much later than `statement_timeout` the client stops waiting on a silent socket. */
const CLIENT_SLACK_MS = 500;

interface Wrapped {
  query(sql: string, parameters: readonly unknown[]): Promise<pg.QueryResult>;
  release(destroy?: boolean | Error): void;
}

export function createPostgresPool(config: pg.PoolConfig, budget: PoolBudget): PostgresPool {
  const pool = new pg.Pool({
    ...config,
    max: budget.max,
    connectionTimeoutMillis: budget.acquireTimeoutMs,
    statement_timeout: budget.queryTimeoutMs,
    query_timeout: budget.queryTimeoutMs + CLIENT_SLACK_MS,
  });
  // An idle client whose server went away errors outside any query; pg-pool re-emits that on
  // the pool, and an 'error' nobody listens to would end the process. The client is already
  // removed; the next query opens a fresh connection or reports the database unavailable.
  pool.on('error', () => {});

  const wrappers = new WeakMap<pg.PoolClient, Wrapped>();
  function wrap(client: pg.PoolClient): Wrapped {
    let wrapped = wrappers.get(client);
    if (wrapped) return wrapped;
    let broken: Error | undefined;
    // A checked-out client's socket can fail between queries too; without a listener that would
    // be an uncaught 'error'.
    client.on('error', (err) => {
      broken ??= err;
    });
    wrapped = {
      async query(sql, parameters) {
        if (broken) throw new DatabaseUnavailableError('the database connection broke', { cause: broken });
        try {
          return await client.query(sql, parameters as unknown[]);
        } catch (err) {
          if (!isUnavailable(err)) throw err;
          // A server-side statement timeout leaves the connection usable; anything else does not.
          if ((err as { code?: string }).code !== '57014') broken = err as Error;
          throw new DatabaseUnavailableError(describe(err), { cause: err });
        }
      },
      release(destroy) {
        // pg's Client.release(err) destroys it rather than pooling it again.
        client.release(broken ?? (destroy ? new Error('discarded') : undefined));
        if (broken) wrappers.delete(client);
      },
    };
    wrappers.set(client, wrapped);
    return wrapped;
  }

  return {
    async connect() {
      try {
        // No cursors are configured: the one-argument form of `query` is never called.
        return wrap(await pool.connect()) as unknown as PostgresPoolClient;
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        throw new DatabaseUnavailableError(describe(err), { cause: err });
      }
    },
    end: () => pool.end(),
    // Kysely opens a connection of its own with these to cancel a query.
    options: pool.options,
    Client: pg.Client,
  };
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `the database did not answer: ${e.message ?? e.code ?? String(err)}`;
}
