/**
 * Database targets for behaviour tests: the embedded default always, and real
 * PostgreSQL when `TEST_DATABASE_URL` is set (CI sets it and insists on it).
 * Each PostgreSQL target gets a fresh schema, so test files can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface DatabaseTarget {
  name: 'sqlite' | 'postgres';
  url: string;
  schema?: string;
  /** Drops what the target created. */
  cleanup(): Promise<void>;
}

export function databaseTargets(): Array<() => DatabaseTarget> {
  const targets: Array<() => DatabaseTarget> = [
    () => ({ name: 'sqlite', url: 'sqlite::memory:', cleanup: async () => {} }),
  ];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    targets.push(() => {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      return {
        name: 'postgres',
        url,
        schema,
        async cleanup() {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`drop schema if exists ${schema} cascade`);
          } finally {
            await client.end();
          }
        },
      };
    });
  } else if (process.env.CI) {
    throw new Error('TEST_DATABASE_URL must be set in CI: the PostgreSQL tests may not be skipped');
  }
  return targets;
}

export function redisTestUrl(): string | undefined {
  const url = process.env.TEST_REDIS_URL;
  if (!url && process.env.CI)
    throw new Error('TEST_REDIS_URL must be set in CI: the Redis tests may not be skipped');
  return url;
}
