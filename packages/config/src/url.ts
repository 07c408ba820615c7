/**
 * Settings that hold URLs, origins or proxy addresses are checked as the code that uses them
 * reads them (`new URL`, a Redis or SMTP client, DPoP's comparison of origins, proxy-addr), so a
 * bad value is a ConfigError naming the key, never a TypeError from deep in start-up. Each kind
 * is a TypeBox format registered here, with the words loadConfig says when a value fails it.
 */
import proxyaddr from '@fastify/proxy-addr';
import Type from 'typebox';
import Format from 'typebox/format';

const SCHEMES = { http: ['http', 'https'], redis: ['redis', 'rediss'], smtp: ['smtp', 'smtps'] } as const;
export type UrlKind = keyof typeof SCHEMES;

const words = new Map<string, string>();

function define(format: string, check: (value: string) => boolean, said: string) {
  Format.Set(format, check);
  words.set(format, said);
}

/** What a value failing `format` should have been, or undefined for TypeBox's own formats. */
export function formatWords(format: string): string | undefined {
  return words.get(format);
}

/** An absolute URL of one of `kind`'s schemes, with a host. */
export function isUrl(value: string, kind: UrlKind): boolean {
  const url = URL.parse(value);
  return (
    url !== null &&
    url.hostname !== '' &&
    (SCHEMES[kind] as readonly string[]).includes(url.protocol.slice(0, -1))
  );
}

/** `scheme://host[:port]` exactly as `new URL(...).origin` spells it, which is what DPoP and pools compare. */
function isOrigin(value: string): boolean {
  return isUrl(value, 'http') && URL.parse(value)!.origin === value;
}

const entries = (value: string) =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

/** As proxy-addr reads them, less a bare number, which it would take for 0.0.0.n (never meant). */
function readsAsProxies(value: string): boolean {
  const list = entries(value);
  if (list.some((entry) => /^[0-9]+$/.test(entry))) return false;
  try {
    proxyaddr.compile(list);
    return true;
  } catch {
    return false;
  }
}

for (const [kind, schemes] of Object.entries(SCHEMES)) {
  const said = `must be ${kind === 'redis' ? 'a' : 'an'} ${schemes.map((s) => `${s}://`).join(' or ')} URL`;
  define(`${kind}-url`, (value) => isUrl(value, kind as UrlKind), said);
  define(
    `${kind}-url-or-empty`,
    (value) => value === '' || isUrl(value, kind as UrlKind),
    `${said}, or empty`,
  );
}
define(
  'database-url',
  (value) => value.startsWith('sqlite:') || (/^postgres(ql)?:\/\//.test(value) && URL.canParse(value)),
  'must be sqlite:<path> or a postgres:// URL',
);
define(
  'resource',
  (value) => URL.canParse(value) && !value.includes('#'),
  'must be an absolute URI with no fragment (RFC 8707 resource)',
);
define('origin', isOrigin, 'must be an origin: http(s)://host[:port], with no path, not even a trailing /');
define(
  'origins',
  (value) => entries(value).every(isOrigin),
  'must be comma-separated origins, each http(s)://host[:port] with no path, not even a trailing /',
);
define(
  'proxies',
  readsAsProxies,
  'must be comma-separated addresses, CIDRs or loopback/linklocal/uniquelocal',
);
define(
  'proxies-or-hops',
  (value) => /^\s*[0-9]+\s*$/.test(value) || readsAsProxies(value),
  'must be a hop count, or comma-separated addresses, CIDRs or loopback/linklocal/uniquelocal',
);

interface StringOptions {
  default?: string;
  env?: string;
  description?: string;
}

/** A URL of `kind`'s schemes (http: http/https; redis: redis/rediss; smtp: smtp/smtps); `orEmpty`: '' means off. */
export function Url(kind: UrlKind, options: StringOptions & { orEmpty?: boolean } = {}) {
  const { orEmpty, ...rest } = options;
  return Type.String({ ...rest, format: orEmpty ? `${kind}-url-or-empty` : `${kind}-url` });
}

/** One origin, or (`list`) comma-separated origins where empty is allowed. */
export function Origin(options: StringOptions & { list?: boolean } = {}) {
  const { list, ...rest } = options;
  return Type.String({ ...rest, format: list ? 'origins' : 'origin' });
}

/** An RFC 8707 resource indicator (an API audience identity issues tokens for). */
export function Resource(options: StringOptions = {}) {
  return Type.String({ ...options, format: 'resource' });
}

/** Comma-separated proxy addresses, CIDRs and names ('' trusts none); `hops`: or a hop count. */
export function Proxies(options: StringOptions & { hops?: boolean } = {}) {
  const { hops, ...rest } = options;
  return Type.String({ ...rest, format: hops ? 'proxies-or-hops' : 'proxies' });
}
