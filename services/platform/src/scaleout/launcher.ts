/**
 * How a replica is started. Every replica listens on 127.0.0.1 ports (containers run with
 * `--network host`), so the rest of the harness reaches a process and a container the
 * same way; only starting and signalling differ.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../../..');

export interface Replica {
  readonly name: string;
  /** Sends a signal: SIGTERM to stop gracefully, SIGKILL to crash it. */
  signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Resolves with the exit code (or the signal's name) once it has stopped. */
  readonly exited: Promise<number | string>;
  /** Its last lines of output, for a failure message. */
  output(): string;
}

export interface Launcher {
  readonly kind: string;
  /** Starts `service` (gateway, catalog, …) as the replica `name` with this environment. */
  start(service: string, name: string, env: Record<string, string>): Replica;
}

/** A child process as a replica: its exit, its last output, and how it is signalled. */
function replicaOf(name: string, child: ChildProcess, signal: Replica['signal']): Replica {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode!);
    else child.once('exit', (code, sig) => resolve(code ?? sig ?? -1));
  });
  return { name, exited, output: () => text, signal };
}

/** `node services/<service>/src/main.ts`: what CI runs. */
export function processLauncher(node = process.execPath): Launcher {
  return {
    kind: 'process',
    start(service, name, env) {
      const child = spawn(node, [join(ROOT, 'services', service, 'src', 'main.ts')], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          // Replicas of one service compile the same modules: share V8's cache (a third faster to start).
          NODE_COMPILE_CACHE: join(tmpdir(), 'portico-node-compile-cache'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return replicaOf(name, child, async (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      });
    },
  };
}

/**
 * `docker run --network host <image> <service>`: the same replicas from the image
 * `deploy/Dockerfile` builds. The container is named after the replica, so a signal
 * reaches PID 1 in it (which forwards it to Node).
 */
export function dockerLauncher(image: string, docker = 'docker'): Launcher {
  return {
    kind: `docker ${image}`,
    start(service, name, env) {
      const container = `portico-${name}-${process.pid}`;
      const args = ['run', '--rm', '--network', 'host', '--name', container];
      for (const [key, value] of Object.entries(env)) args.push('--env', `${key}=${value}`);
      // Files the harness writes (keys, gateway and identity files) are mounted where they are.
      const dirs = new Set(
        Object.values(env)
          .filter((v) => v.startsWith('/'))
          .map((v) => v.replace(/\/[^/]*$/, '')),
      );
      for (const dir of dirs) args.push('--volume', `${dir}:${dir}`);
      const child = spawn(docker, [...args, image, service], { stdio: ['ignore', 'pipe', 'pipe'] });
      return replicaOf(name, child, async (signal) => {
        await run(docker, ['kill', '--signal', signal, container]).catch(() => {});
      });
    },
  };
}
