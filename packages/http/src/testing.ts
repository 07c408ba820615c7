import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A loopback port free right now, for tests whose servers must know their address before they
 * listen. It is chosen below the kernel's ephemeral range: a port from `listen(0)` is one the
 * kernel also hands to outgoing connections and to other listeners asking for any port, so in
 * the moment between this probe and the real listen another process could take it
 * (EADDRINUSE, seen with many processes starting at once). Below that range only a process
 * that names the port can.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = FLOOR + Math.floor(Math.random() * (low - FLOOR));
    if (await bindable(candidate)) return candidate;
  }
  return anyPort();
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

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
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
