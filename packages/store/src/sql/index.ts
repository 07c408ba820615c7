/**
 * One typed query layer (Kysely) over two drivers: SQLite through `node:sqlite`
 * for the embedded default, PostgreSQL for scaled-out deployments. Services write
 * portable queries and one set of migrations; `dialect` is there for the rare
 * statement that must differ.
 */
import { resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import pg from 'pg';
import { openNodeSqlite } from './node-sqlite.ts';
import { createPostgresPool } from './postgres-pool.ts';
import { preparePrivateFile, tightenPrivateFiles } from './private-files.ts';

export type { Transaction } from 'kysely';
export { sql } from 'kysely';
export type { Migration } from 'kysely/migration';
export { columnTypes } from './columns.ts';
export { uuidv7 } from './ids.ts';
export { secretKey } from './secret-key.ts';
export { DatabaseUnavailableError, isUnavailable } from './unavailable.ts';

export type SqlDialect = 'sqlite' | 'postgres';

export type Migrations = Record<string, Migration> | ((dialect: SqlDialect) => Record<string, Migration>);

export interface DatabaseOptions {
  /** `sqlite:<path>`, `sqlite::memory:`, or a `postgres://` URL. */
  url: string;
  /** PostgreSQL schema this service owns (created if missing); ignored by SQLite. */
  schema?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /**
   * PostgreSQL: longest a statement runs (`statement_timeout`) and, 500 ms later, longest a
   * query waits on a silent connection; then `DatabaseUnavailableError`. @default 5000
   */
  queryTimeoutMs?: number;
  /** PostgreSQL: longest wait for a pooled connection or a new one. @default 2000 */
  acquireTimeoutMs?: number;
}

export interface Database<DB> {
  db: Kysely<DB>;
  dialect: SqlDialect;
  /** Runs every migration not yet applied, in name order; a function gets the dialect. */
  migrate(migrations: Migrations): Promise<void>;
  close(): Promise<void>;
}

/** What every service's config says of its database (`serviceSettings` in @portico/config). */
export interface ServiceDatabaseSettings {
  databaseUrl: string;
  databaseSchema?: string;
  databaseQueryTimeoutMs?: number;
  databaseAcquireTimeoutMs?: number;
}

/** A service's database with its budgets, migrated; closed again when a migration fails. */
export async function openServiceDatabase<DB>(
  settings: ServiceDatabaseSettings,
  migrations: Migrations,
): Promise<Database<DB>> {
  const database = openDatabase<DB>({
    url: settings.databaseUrl,
    schema: settings.databaseSchema,
    queryTimeoutMs: settings.databaseQueryTimeoutMs,
    acquireTimeoutMs: settings.databaseAcquireTimeoutMs,
  });
  try {
    await database.migrate(migrations);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

/** First key of the advisory lock that serialises migrations; the second is the schema's hash. */
const MIGRATION_LOCK = 0x706f7274; // "port"

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

// Timestamps travel as ISO-8601 strings on both drivers; bigint counts as numbers.
pg.types.setTypeParser(1184, (v) => new Date(v).toISOString());
pg.types.setTypeParser(1114, (v) => new Date(`${v}Z`).toISOString());
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export function openDatabase<DB>(options: DatabaseOptions): Database<DB> {
  const { url } = options;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres<DB>(options);
  if (url.startsWith('sqlite:')) return openSqlite<DB>(url.slice('sqlite:'.length));
  throw new Error(`unsupported database URL ${redact(url)}: use sqlite:<path> or postgres://…`);
}

function openSqlite<DB>(path: string): Database<DB> {
  const file = path === ':memory:' || path === '' ? ':memory:' : resolve(path);
  if (file !== ':memory:') preparePrivateFile(file);
  const { kysely } = openNodeSqlite(file);
  if (file !== ':memory:') tightenPrivateFiles(file);
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: kysely }) });
  return {
    db,
    dialect: 'sqlite',
    migrate: (migrations) => runMigrations(db, resolveMigrations(migrations, 'sqlite')),
    close: () => db.destroy(),
  };
}

function openPostgres<DB>(options: DatabaseOptions): Database<DB> {
  const schema = options.schema;
  if (schema !== undefined && !IDENTIFIER.test(schema))
    throw new Error(`invalid PostgreSQL schema name ${schema}`);
  const connection = {
    connectionString: options.url,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
  const pool = createPostgresPool(connection, {
    max: options.poolSize ?? 10,
    queryTimeoutMs: options.queryTimeoutMs ?? 5000,
    acquireTimeoutMs: options.acquireTimeoutMs ?? 2000,
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    async migrate(migrations) {
      // Every replica migrates when it starts, and a rollout starts them together: one at a
      // time per schema (`create schema if not exists` alone races), the others then find
      // nothing left to do. The lock is held on its own connection, outside the pool the
      // migrator uses, so a pool of one cannot wait on itself.
      // Migrations get a pool of their own without the request budget: they run once at start-up,
      // and Kysely's migration lock is one for the whole database, so they may wait on another
      // service's migrations for longer than any request should.
      const lock = new pg.Client({ connectionString: options.url });
      const migrator = new Kysely<DB>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ ...connection, max: 2 }) }),
      });
      await lock.connect();
      try {
        await lock.query('select pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK, schema ?? 'public']);
        if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(migrator);
        await runMigrations(migrator, resolveMigrations(migrations, 'postgres'), schema);
      } finally {
        // Ending the session releases the lock too, when the unlock cannot be sent.
        await lock.end();
        await migrator.destroy();
      }
    },
    close: () => db.destroy(),
  };
}

function resolveMigrations(migrations: Migrations, dialect: SqlDialect): Record<string, Migration> {
  return typeof migrations === 'function' ? migrations(dialect) : migrations;
}

async function runMigrations<DB>(
  db: Kysely<DB>,
  migrations: Record<string, Migration>,
  schema?: string,
): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  // Kysely looks for its bookkeeping tables in every schema unless told which one:
  // another service's (or a benchmark's) tables would then be mistaken for ours.
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's introspection reads every schema's tables; one dropped by someone else meanwhile
  // fails it with 3F000 before anything ran. Nothing was applied, so trying again is safe.
  for (let attempt = 0; error && attempt < 3 && droppedElsewhere(error, schema); attempt++) {
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(unknown)'} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function droppedElsewhere(error: unknown, schema: string | undefined): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '3F000' && !(schema && e.message?.includes(`"${schema}"`));
}

/** True when `err` is a unique-constraint violation on either driver. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: string; message?: string };
  return (
    e?.code === '23505' ||
    (e?.code === 'ERR_SQLITE_ERROR' && /UNIQUE constraint failed/.test(e.message ?? ''))
  );
}

/** True when `err` is a foreign-key violation on either driver. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e?.code === '23503' ||
    (e?.code === 'ERR_SQLITE_ERROR' && /FOREIGN KEY constraint failed/.test(e.message ?? ''))
  );
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

export type { Kysely };
export type Executor<DB> = Kysely<DB> | Transaction<DB>;
