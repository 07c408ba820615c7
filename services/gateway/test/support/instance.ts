/**
 * An upstream instance in a process of its own: one a test can freeze (SIGSTOP) without freezing
 * itself, and that keeps answering while the test blocks its own event loop (the gateway's).
 * Answers `/health` at once and any other path with 200 after `delayMs`.
 * Run as a script, it is the instance; imported, `startInstance` starts one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

export interface Instance {
  url: string;
  child: ChildProcess;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startInstance(delayMs = 0): Promise<Instance> {
  const child = spawn(process.execPath, [self, String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`instance exited (${code}) before it listened`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

if (process.argv[1] === self) {
  const delayMs = Number(process.argv[2] ?? 0);
  const server = createServer((req, res) => {
    req.resume();
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/health' ? '{"status":"healthy"}' : `{"pid":${process.pid}}`);
    };
    if (req.url === '/health' || delayMs === 0) answer();
    else setTimeout(answer, delayMs);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
}
