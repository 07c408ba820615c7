/**
 * Shared bench plumbing: start servers as child processes, wait for them, and load
 * them with wrk (Debian's `wrk`: a C client, so the load generator takes less of the
 * two cores than a Node one would). Results are compared side by side in one run.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Load {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

export async function waitFor(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up in ${timeoutMs} ms`);
}

export function start(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
  });
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return Number.NaN;
  const value = Number(m[1]);
  return m[2] === 'us' ? value / 1000 : m[2] === 's' ? value * 1000 : value;
}

/** Runs wrk against `url` and parses req/s, p50, p99 and non-2xx/3xx or socket errors. */
export async function wrk(
  url: string,
  options: { seconds?: number; connections?: number } = {},
): Promise<Load> {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 10);
  const connections = options.connections ?? 50;
  await exec('wrk', ['-t1', `-c${connections}`, '-d2s', url]); // warm-up
  const { stdout } = await exec('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], {
    maxBuffer: 1 << 20,
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p50 = /^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '';
  const p99 = /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '';
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return { rps, p50ms: ms(p50), p99ms: ms(p99), errors: non2xx + socketErrors };
}

export function row(name: string, load: Load, base?: Load): string {
  const ratio = base ? `${(load.rps / base.rps).toFixed(1)}x` : '1.0x';
  return `| ${name} | ${Math.round(load.rps).toLocaleString('en-US')} | ${load.p50ms.toFixed(2)} | ${load.p99ms.toFixed(2)} | ${ratio} | ${load.errors} |`;
}

export const TABLE_HEAD =
  '| server | requests/s | p50 ms | p99 ms | vs. baseline | errors |\n|---|---:|---:|---:|---:|---:|';
