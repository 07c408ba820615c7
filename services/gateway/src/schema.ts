/**
 * The pieces every part of the gateway file is written with: durations, methods, header maps.
 * A leaf module: policies build their options from these without importing the whole config.
 * `expected` on a schema is what its key accepts, said once in place of the validator's
 * one complaint per shape of a union (config.ts `readable`).
 */
import { type TSchema, Type } from '@portico/config';

/** Annotations read by config.ts when it words a refused gateway file. */
export interface Expected {
  /** What the key accepts, in words. */
  expected?: string;
  /** Also said for a bad value one key below this one (an object in a union). */
  expectedWithin?: boolean;
}

const DURATION_WORDS = 'must be milliseconds or a duration such as "500ms", "10s", "1m", "1h"';

/** Milliseconds, or a number with a unit: "500ms", "10s", "1m", "1h". */
export function Duration(options: { description?: string; default?: string | number } = {}) {
  return Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })], {
    description: 'milliseconds, or "500ms", "10s", "1m", "1h"',
    ...options,
    expected: DURATION_WORDS,
  });
}

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const Method = Type.Union(METHODS.map((method) => Type.Literal(method)));
export const Strings = Type.Array(Type.String({ minLength: 1 }));
export const HeaderMap = Type.Record(Type.String(), Type.String());

/** A value whose shapes `schema` lists, with `words` said when it fits none of them. */
export function expecting<T extends TSchema>(schema: T, words: string, within = false): T {
  return Object.assign(schema, { expected: words, ...(within ? { expectedWithin: true } : {}) });
}

export function ms(value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(value)!;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}
