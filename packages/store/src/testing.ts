/**
 * Database targets for behaviour tests: the embedded default always, and real
 * PostgreSQL when `TEST_DATABASE_URL` is set (CI sets it and insists on it).
 * Each PostgreSQL target gets a fresh schema, so test files can run in parallel.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
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

export interface OwnRedis {
  url: string;
  /** SIGSTOP: the server keeps its connections and answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  stop(): Promise<void>;
}

/**
 * A `redis-server` of the test's own on a free 127.0.0.1 port, for tests that pause or kill
 * Redis: never the shared one. Needs `redis-server` on the PATH (CI installs it).
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
