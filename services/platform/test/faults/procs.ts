/**
 * Real processes for fault tests: services started as `node services/<name>/src/main.ts` with
 * their configuration in the environment, and a JWKS endpoint for test tokens. (A Redis of a
 * test's own: `startOwnRedis()` in @portico/store/testing.)
 * Everything listens on 127.0.0.1; every process is stopped (and resumed first, if paused).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import { freePort } from '@portico/http/testing';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface Proc {
  name: string;
  url: string;
  port: number;
  /** The operator listener (/metrics, the detailed /health). */
  operatorUrl: string;
  child: ChildProcess;
  /** stdout and stderr, as they came. */
  output: () => string;
  pause(): void;
  resume(): void;
  kill9(): Promise<void>;
  /** SIGTERM, and the exit code once it has exited. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

const running = new Set<Proc>();

/** A port that was free a moment ago (for processes that take their port from the environment). */
export { freePort };

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${last})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function track(name: string, child: ChildProcess, port: number, url: string, operatorUrl: string): Proc {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    // An open breaker logs one CIRCUIT_OPEN per refused request: left in, they would push the
    // breaker and stall events that tests look for out of the kept tail.
    out += chunk
      .toString()
      .split('\n')
      .filter((l) => !l.includes('CIRCUIT_OPEN'))
      .join('\n');
    if (out.length > 200_000) out = out.slice(-100_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: Proc = {
    name,
    url,
    port,
    operatorUrl,
    child,
    output: () => out,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    exited,
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** `node services/<service>/src/main.ts` on a free port, ready once `/health` answers. */
export async function startService(
  service: string,
  env: Record<string, string>,
  options: { port?: number; name?: string } = {},
): Promise<Proc> {
  const port = options.port ?? (await freePort());
  const operatorPort = await freePort();
  const upper = service.toUpperCase();
  const child = spawn(process.execPath, [join(ROOT, `services/${service}/src/main.ts`)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      [`${upper}_PORT`]: String(port),
      [`${upper}_HOST`]: '127.0.0.1',
      // The default operator port is fixed per service: two instances (or another test's) would clash.
      [`${upper}_OPERATOR_PORT`]: String(operatorPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  const proc = track(options.name ?? service, child, port, url, `http://127.0.0.1:${operatorPort}`);
  try {
    await waitFor(
      `${proc.name} to answer on ${url}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${proc.name} exited`);
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        return res.status < 500;
      },
      90_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${proc.output().slice(-2000)}`);
  }
  return proc;
}

/** Stops every process a test started (resumed first if paused). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => proc.stop()));
}

/** A directory for databases and gateway files, removed by the returned function. */
export async function scratch(): Promise<{
  dir: string;
  file(name: string, body: unknown): Promise<string>;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-faults-'));
  return {
    dir,
    async file(name, body) {
      const path = join(dir, name);
      await writeFile(path, typeof body === 'string' ? body : JSON.stringify(body, null, 2));
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The test issuer's keys served over HTTP, for services that read a JWKS URI. */
export async function startJwks(): Promise<{ issuer: TestIssuer; jwksUri: string; close(): Promise<void> }> {
  const issuer = await createTestIssuer();
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    issuer,
    jwksUri: `http://127.0.0.1:${port}/jwks`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
