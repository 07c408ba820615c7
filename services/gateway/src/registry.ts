/**
 * Every built-in policy, and the terminals that end a route. The order of a route's pipeline
 * is the policies' priorities, higher first; a route runs only those it sets options for.
 *
 *   priority
 *     —     request id, header hygiene, method and path checks   gateway.ts, before any policy
 *   2000    cors          preflight answered here; CORS headers on every answer
 *   1900    body-limit    413 before the body passes the route's limit
 *   1500    auth          401 / 403 / 429 on failed-auth metering; the verified caller becomes the consumer
 *   1200    cache-lookahead  a GET's cache read starts beside the limiter's store call (routes with both)
 *   1000    rate-limit    429 + RateLimit headers; fails open without its store
 *    950    streams       an event stream takes a slot of the consumer's connection cap
 *    900    cache         a hit answers here; a write purges
 *    800    transform     path rewrite, headers both ways, response fields
 *    700    validate      400 / 415 against the published operation; in a test mode the upstream's answer
 *     —     aggregate     parallel branches, partial results          (terminal)
 *     —     proxy         round robin, breaker, timeout → 504, retries (terminal)
 *     —     metrics, usage, log                                      gateway.ts, once the answer is written
 *
 * Adding a policy: its folder under policies/, one line below. An outside policy needs neither:
 * the gateway file's `plugins:` loads it (plugins.ts).
 */

import { aggregate } from './policies/aggregate/index.ts';
import { auth } from './policies/auth/index.ts';
import { bodyLimit } from './policies/body-limit/index.ts';
import { cache, cacheLookahead } from './policies/cache/index.ts';
import { cors } from './policies/cors/index.ts';
import { proxy } from './policies/proxy/index.ts';
import { rateLimit } from './policies/rate-limit/index.ts';
import { streams } from './policies/streams/index.ts';
import { transform } from './policies/transform/index.ts';
import { validate } from './policies/validate/index.ts';
import type { AnyPolicy, AnyTerminal } from './policy.ts';

export const policies = [
  cors,
  bodyLimit,
  auth,
  cacheLookahead,
  rateLimit,
  streams,
  cache,
  transform,
  validate,
] as const;

/** The first whose factory answers for a route ends its pipeline. */
export const terminals = [aggregate, proxy] as const;

export type BuiltIn = (typeof policies)[number] | (typeof terminals)[number];
export type { AnyPolicy, AnyTerminal };
