/**
 * Which `X-Forwarded-For` entry is the client (RFC 7239 §5.2's list, de facto header):
 * each proxy appends the address it received from, so only the entries the trusted proxies
 * wrote, at the right end, can be believed. The client is the first address from the right
 * that is not a trusted proxy: either the last `proxyHops` hops are trusted (the socket's
 * peer being the first), or the addresses in `trustedProxies` (CIDRs) wherever they are.
 * What a client writes on the left is skipped, never used.
 */
export interface ForwardedSettings {
  trustProxy: boolean;
  proxyHops: number;
  trustedProxies: string;
}

/**
 * Fastify's `trustProxy` (proxy-addr): the CIDRs, or the first `proxyHops` hops counted from
 * the socket (hop 0 is the socket's peer); never `true`, which would trust every entry.
 */
export function trustProxyOption(
  settings: ForwardedSettings,
): false | string[] | ((address: string, hop: number) => boolean) {
  if (!settings.trustProxy) return false;
  const cidrs = settings.trustedProxies
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return cidrs.length > 0 ? cidrs : (_address, hop) => hop < settings.proxyHops;
}
