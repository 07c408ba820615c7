/**
 * How a replica is started. Every replica listens on 127.0.0.1 ports (containers run with
 * `--network host`), so the rest of the harness reaches a process and a container the
 * same way; only starting and signalling differ.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../../..');
/** The image's user (deploy/Dockerfile). */
const IMAGE_USER = '10001:10001';

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
 * Containers of the image `deploy/Dockerfile` builds, started the way docs/deploy.md starts
 * them: `deploy/image/run.sh <container> <service> VAR=value…` (host network, read-only root,
 * /tmp in memory, a data volume of its own, the image's user). The harness's directory (keys,
 * gateway and identity files) is mounted where it is; the image's user must be able to read
 * and write it, so it is handed to that user when we are root, and otherwise the container
 * runs as our user (never root either way). A signal reaches PID 1 (Node) through
 * `docker kill`; the container is removed with its volume once it has exited.
 */
export function dockerLauncher(image: string, dir: string): Launcher {
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? '' : `--user ${process.getuid?.()}:${process.getgid?.()}`;
  // The directory's name is unique (mkdtemp), and so are the containers named after it.
  const prefix = basename(dir);
  const docker = (...args: string[]) => run('docker', args).then(({ stdout }) => stdout.trim());
  return {
    kind: `containers of ${image}`,
    start(service, name, env) {
      const container = `${prefix}-${name}`;
      if (asRoot) execFileSync('chown', ['-R', IMAGE_USER, dir]);
      const started = run(
        join(ROOT, 'deploy/image/run.sh'),
        [
          container,
          service,
          ...Object.entries({
            // One V8 code cache for the deployment's replicas, in its directory (a third faster to start).
            NODE_COMPILE_CACHE: join(dir, 'node-compile-cache'),
            ...env,
          }).map(([key, value]) => `${key}=${value}`),
        ],
        {
          env: {
            ...process.env,
            PORTICO_IMAGE: image,
            // HAProxy's checks are these replicas' probes, as a cluster's are: the image's
            // HEALTHCHECK would only start another Node in each container every 10 s.
            PORTICO_RUN_OPTS: `--no-healthcheck --volume ${dir}:${dir} ${user}`.trim(),
          },
        },
      );
      // Its output as long as it runs; `docker wait` gives the exit code; then it is removed.
      const logs = started.then(() =>
        spawn('docker', ['logs', '--follow', container], { stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      let text = '';
      void logs.then((child) => {
        const keep = (chunk: Buffer) => {
          text = (text + chunk.toString()).slice(-4000);
        };
        child.stdout?.on('data', keep);
        child.stderr?.on('data', keep);
      });
      const exited = started
        .then(async () => {
          const code = Number(await docker('wait', container));
          await docker('rm', '--force', '--volumes', container).catch(() => {});
          await docker('volume', 'rm', '--force', `${container}-data`).catch(() => {});
          return code;
        })
        .catch((err: Error & { stderr?: string }) => {
          text += err.stderr ?? err.message;
          return 'not started';
        });
      return {
        name,
        exited,
        output: () => text,
        async signal(signal) {
          await started.catch(() => {});
          await docker('kill', '--signal', signal, container).catch(() => {});
        },
      };
    },
  };
}
