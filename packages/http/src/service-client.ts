/**
 * One way for a service to call another (decision 0007):
 * - one deadline per call, connect to last byte (`timeoutMs`);
 * - the answers the caller expects are listed by status, each with the provider's own TypeBox
 *   schema; a body that does not match is read as the provider's failure, never trusted;
 * - a transport failure (`isTransportError`), an unlisted status or an unreadable body is
 *   "unavailable": the caller's own error for it, marked `Portico-Dependency-Failure: <name>`
 *   with `Retry-After`, so the gateway keeps this instance in rotation. Anything else thrown
 *   inside the call (a bug, a value that cannot go into a header) is rethrown as it is.
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Agent, request } from 'undici';
import { dependencyFailure, isTransportError } from './dependency.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

export interface ServiceClientOptions {
  /** The provider, as `Portico-Dependency-Failure` names it (`catalog`, `orders`). */
  name: string;
  /** Its base URL. */
  url: string;
  /** The budget of one call, connect to last byte. */
  timeoutMs: number;
  /** The caller's error for an unavailable provider: a 503 of its own catalogue, given these headers. */
  unavailable(detail: string, init: { cause: Error; headers: Record<string, string> }): Error;
}

/** Expected statuses, each with the schema its body must match (`null`: the body is not read). */
export type Answers = Record<number, TSchema | null>;

export type Answer<A extends Answers> = {
  [S in keyof A & number]: { status: S; body: A[S] extends TSchema ? Static<A[S]> : undefined };
}[keyof A & number];

export interface Call<A extends Answers> {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path, its segments already encoded (`encodeURIComponent`). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Passed on as `X-Request-Id`, so one request can be followed across services. */
  requestId?: string;
  answers: A;
}

export interface ServiceClient {
  call<A extends Answers>(call: Call<A>): Promise<Answer<A>>;
  close(): Promise<void>;
}

type Check = (value: unknown) => boolean;
const checks = new WeakMap<TSchema, Check>();

function checkFor(schema: TSchema): Check {
  let check = checks.get(schema);
  if (!check) {
    const compiled = Compile(schema);
    check = (value) => compiled.Check(value);
    checks.set(schema, check);
  }
  return check;
}

export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const { name, timeoutMs } = options;
  const base = options.url.replace(/\/+$/, '');
  const agent = new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
  });
  const unavailable = (detail: string, cause: Error) =>
    options.unavailable(detail, { cause, headers: dependencyFailure(name) });

  return {
    async call<A extends Answers>(call: Call<A>): Promise<Answer<A>> {
      const query = call.query ? `?${new URLSearchParams(call.query)}` : '';
      const target = `${base}${call.path}${query}`;
      const json = call.body !== undefined;
      let status: number;
      let text: string;
      try {
        const res = await request(target, {
          method: call.method ?? 'GET',
          dispatcher: agent,
          signal: AbortSignal.timeout(timeoutMs),
          headers: {
            accept: 'application/json',
            ...(json ? { 'content-type': 'application/json' } : {}),
            ...(call.requestId ? { [REQUEST_ID_HEADER]: call.requestId } : {}),
            ...call.headers,
          },
          ...(json ? { body: JSON.stringify(call.body) } : {}),
        });
        status = res.statusCode;
        if (call.answers[status] === undefined || call.answers[status] === null) {
          await res.body.dump();
          text = '';
        } else {
          text = await res.body.text();
        }
      } catch (err) {
        if (!isTransportError(err)) throw err;
        throw unavailable(`The ${name} service did not answer in time; try again shortly`, err as Error);
      }
      const schema = call.answers[status];
      if (schema === undefined) {
        throw unavailable(
          `The ${name} service is not available; try again shortly`,
          new Error(`${name} answered ${status} to ${call.method ?? 'GET'} ${call.path}`),
        );
      }
      if (schema === null) return { status, body: undefined } as Answer<A>;
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {}
      if (!checkFor(schema)(body)) {
        throw unavailable(
          `The ${name} service sent an answer this service cannot read`,
          new Error(
            `${name} answered ${status} to ${call.path} with an unexpected body: ${text.slice(0, 200)}`,
          ),
        );
      }
      return { status, body } as Answer<A>;
    },
    close: () => agent.close(),
  };
}
