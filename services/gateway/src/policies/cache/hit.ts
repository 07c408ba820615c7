/**
 * A cache hit's reply. Its headers are the stored ones with `Age` and `Content-Length`, the
 * same object every policy sees; until a policy asks for that object, reply.ts writes the head
 * from a flat list prepared once per stored entry (`rawHead`), so a hit copies no header object.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Reply } from '../../context.ts';
import type { Entry } from './copies.ts';

/** What an entry's hits share, prepared on its first hit. */
interface Prepared {
  /** The stored headers as name, value pairs, `Content-Length` set in its place when stored. */
  pairs: unknown[];
  /** Content-Length was not stored: it goes after `Age`. */
  lengthAfter: boolean;
  length: string;
  /** Every name in `pairs`, `age` and `content-length`: an added header with one of them takes the object path. */
  names: Set<string>;
  /** The last second's `Age`, reused while it holds. */
  ageSecond: number;
  ageText: string;
}

const prepared = new WeakMap<Entry, Prepared>();

function prepare(entry: Entry): Prepared {
  let known = prepared.get(entry);
  if (known) return known;
  const length = String(entry.body.length);
  const pairs: unknown[] = [];
  let lengthAfter = true;
  for (const name in entry.headers) {
    if (name === 'age') continue;
    if (name === 'content-length') lengthAfter = false;
    pairs.push(name, name === 'content-length' ? length : entry.headers[name]);
  }
  const names = new Set<string>(['age', 'content-length']);
  for (let i = 0; i < pairs.length; i += 2) names.add(pairs[i] as string);
  known = { pairs, lengthAfter, length, names, ageSecond: -1, ageText: '' };
  prepared.set(entry, known);
  return known;
}

export class HitReply implements Reply {
  readonly status = 200;
  body: Reply['body'];
  private object: OutgoingHttpHeaders | undefined;
  private readonly prepared: Prepared;
  private readonly entry: Entry;
  private readonly age: string;

  constructor(entry: Entry) {
    this.entry = entry;
    this.body = entry.body;
    const prep = prepare(entry);
    const age = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000)) + entry.age;
    if (age !== prep.ageSecond) {
      prep.ageSecond = age;
      prep.ageText = String(age);
    }
    this.prepared = prep;
    this.age = prep.ageText;
  }

  /** The headers as an object: made on first use, and from then on the one reply.ts writes. */
  get headers(): OutgoingHttpHeaders {
    this.object ??= { ...this.entry.headers, age: this.age, 'content-length': this.prepared.length };
    return this.object;
  }

  set headers(headers: OutgoingHttpHeaders) {
    this.object = headers;
  }

  /**
   * The head as name, value pairs with `extra` and the request id after the stored headers,
   * as the object would be written; undefined when a policy took the object, or when an
   * extra header names one already there (the object path then merges or replaces it).
   */
  rawHead(extra: Record<string, string>, id: string): unknown[] | undefined {
    if (this.object !== undefined) return undefined;
    const { pairs, names, lengthAfter, length } = this.prepared;
    for (const name in extra) if (names.has(name) || name === 'x-request-id') return undefined;
    const head = pairs.slice();
    head.push('age', this.age);
    if (lengthAfter) head.push('content-length', length);
    for (const name in extra) head.push(name, extra[name]);
    head.push('x-request-id', id);
    return head;
  }
}

export function hitReply(entry: Entry): HitReply {
  return new HitReply(entry);
}
