/**
 * Adapts Node's built-in `node:sqlite` to the small driver interface Kysely's
 * SQLite dialect expects, so the embedded default needs no native module.
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LRUCache } from 'lru-cache';

const STATEMENT_CACHE_SIZE = 256;

export function openNodeSqlite(path: string): { kysely: SqliteDatabase; raw: DatabaseSync } {
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA foreign_keys = ON');
  raw.exec('PRAGMA busy_timeout = 5000');
  if (path !== ':memory:') {
    raw.exec('PRAGMA journal_mode = WAL');
    raw.exec('PRAGMA synchronous = NORMAL');
  }
  // 64 MiB of pages (the default is 2 MiB, allocated as used): a search reads its 1,000
  // candidates' rows, and at a million products those pages are read again by every request.
  raw.exec('PRAGMA cache_size = -65536');
  // Prepared statements are reused: preparing costs more than running a point read.
  const cache = new LRUCache<string, SqliteStatement>({ max: STATEMENT_CACHE_SIZE });
  const kysely: SqliteDatabase = {
    close: () => raw.close(),
    prepare(sql) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = wrap(raw.prepare(sql));
        cache.set(sql, statement);
      }
      return statement;
    },
  };
  return { kysely, raw };
}

function wrap(statement: StatementSync): SqliteStatement {
  return {
    reader: statement.columns().length > 0,
    all: (parameters) => statement.all(...toSqlite(parameters)),
    run: (parameters) => statement.run(...toSqlite(parameters)),
    iterate: (parameters) => statement.iterate(...toSqlite(parameters)),
  };
}

function toSqlite(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    if (value === undefined) return null;
    if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value))
      return JSON.stringify(value);
    return value as SQLInputValue;
  });
}
