/**
 * Which proxies' `X-Forwarded-For` a service believes, read from the right: each hop only
 * when the address that handed it over is a trusted proxy, so a client can put anything on
 * the left of the list and never choose its own address (the rule of RFC 7239 §8.3 for
 * Forwarded, applied to X-Forwarded-For). `GATEWAY_TRUSTED_PROXIES`, `WEB_TRUSTED_PROXIES`.
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from '@fastify/proxy-addr';
import { ConfigError } from '@portico/config';

/** Whether the address `hop` steps from the service (0: the socket's peer) is a trusted proxy. */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * '' trusts no one; a number trusts that many hops; otherwise a comma-separated list of
 * addresses, CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`. A value it
 * cannot read is `service`'s ConfigError naming the entry. The result is also Fastify's
 * `trustProxy` option.
 */
export function trustedProxies(value: string, service: string): TrustProxy {
  const text = value.trim();
  if (text === '') return () => false;
  if (/^[0-9]+$/.test(text)) {
    const hops = Number(text);
    return (_address, hop) => hop < hops;
  }
  try {
    return proxyaddr.compile(text.split(',').map((entry) => entry.trim()));
  } catch (err) {
    throw new ConfigError(service, [`trustedProxies: ${(err as Error).message}`]);
  }
}

export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  return proxyaddr(req, trust) ?? req.socket.remoteAddress ?? 'unknown';
}
