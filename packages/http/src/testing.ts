import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A loopback port for a test server that must know its address before it listens, reserved
 * for this process until it exits: no other freePort caller, in this process or another,
 * gets it meanwhile, however long the real listen takes (a service started as a child
 * process, a port written into another service's config first).
 *
 * A free port alone is not enough: test files run in parallel processes, and two of them
 * probing the same port before either listens both find it free (EADDRINUSE 127.0.0.1:31464
 * in an admin e2e test), as do two calls in one process before the first port is listened on.
 * Ports are chosen below the kernel's ephemeral range: a port from `listen(0)` is one the
 * kernel also hands to outgoing connections and other listeners asking for any port, while
 * below it only a process that names the port takes it.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = FLOOR + Math.floor(Math.random() * (low - FLOOR));
    if (!(await reserve(candidate))) continue;
    if (await bindable(candidate)) return candidate;
  }
  throw new Error(`freePort: no free port between ${FLOOR} and ${low} after 200 tries`);
}

const FLOOR = 20_000;

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high && low > FLOOR + 1000) return [low, high];
  } catch {
    // not Linux: the common default
  }
  return [32_768, 60_999];
}

/** Lock files this process made (not on Linux); removed when it exits. */
const lockFiles: string[] = [];

/**
 * Claims `port` among freePort callers. On Linux the claim is a Unix socket in the abstract
 * namespace named after the port: binding it is atomic, a second claimant gets EADDRINUSE,
 * and the kernel frees it when the holder dies, however it dies. Elsewhere it is a file
 * created with O_EXCL under the temporary directory and removed at exit (one left by a
 * killed process keeps its port out of use; nothing else).
 */
function reserve(port: number): Promise<boolean> {
  if (process.platform === 'linux') {
    return new Promise((resolve) => {
      const claim = createServer();
      claim.once('error', () => resolve(false));
      // Held open until the process exits; unref'd so it does not keep the process alive.
      claim.listen(`\0portico-test-port-${port}`, () => {
        claim.unref();
        resolve(true);
      });
    });
  }
  const path = join(tmpdir(), `portico-test-port-${port}.lock`);
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
  } catch {
    return Promise.resolve(false);
  }
  if (lockFiles.push(path) === 1) process.once('exit', removeLockFiles);
  return Promise.resolve(true);
}

function removeLockFiles() {
  for (const path of lockFiles) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The security headers a JSON answer carries (`RESOURCE_HEADERS`), as a browser reads them. */
export const JSON_API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

const SECURITY_HEADER_NAMES = [
  ...Object.keys(JSON_API_SECURITY_HEADERS),
  'content-security-policy',
  'strict-transport-security',
  'cross-origin-embedder-policy',
];

/** The security headers among `headers` (what a test compares with a policy's). */
export function securityHeadersOf(headers: Record<string, unknown> | Headers): Record<string, unknown> {
  const get = (name: string) =>
    headers instanceof Headers ? (headers.get(name) ?? undefined) : headers[name];
  return Object.fromEntries(
    SECURITY_HEADER_NAMES.map((name) => [name, get(name)]).filter(([, value]) => value !== undefined),
  );
}

/**
 * Sends `request` as raw bytes to `url`'s host and port (what no HTTP client will send: a
 * header twice, Content-Length with Transfer-Encoding) and reads the answer until the server
 * closes or 5 s pass: its status line, lower-cased headers and body.
 */
export async function rawExchange(
  url: string,
  request: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(url);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One answer is enough: stop at the end of its body (Content-Length) on a kept-alive socket.
      const seen = Buffer.concat(chunks).toString('utf8');
      const end = seen.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(seen.slice(0, end));
      if (end !== -1 && length && seen.length - end - 4 >= Number(length[1])) socket.destroy();
    });
    socket.on('close', done);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done() : reject(err)));
    socket.write(request);
  });
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** One GET of `load`: when it was sent (ms since the epoch), how long it took, its status (-1: no answer). */
export interface Outcome {
  at: number;
  ms: number;
  status: number;
  /** The body (start) of a non-200 answer, or the error. */
  detail?: string;
}

/** `workers` loops of GETs of `url` until `stop()`: steady load through a gateway, for fault tests. */
export function load(url: string, workers: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const at = Date.now();
      let status = 0;
      let detail: string | undefined;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
        const body = await res.text();
        status = res.status;
        if (status !== 200) detail = body.slice(0, 300);
      } catch (err) {
        status = -1;
        detail = String(err);
      }
      outcomes.push({ at, ms: Date.now() - at, status, detail });
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
