import type { SqlDialect } from './index.ts';

/**
 * Column types that mean the same on both drivers. Values cross the boundary as
 * ISO-8601 strings (timestamps), 0/1 or booleans (read them with `Boolean()`),
 * and integers (money in minor units: never floats).
 */
export function columnTypes(dialect: SqlDialect) {
  const pg = dialect === 'postgres';
  return {
    timestamp: pg ? 'timestamptz' : 'text',
    boolean: pg ? 'boolean' : 'integer',
    json: pg ? 'jsonb' : 'text',
    bigint: pg ? 'bigint' : 'integer',
  } as const;
}
