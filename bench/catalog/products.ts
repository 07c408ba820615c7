/**
 * Deterministic catalog data for the scale bench: a million products look like a real shop's
 * (brand, adjective, noun, model; a sentence of description), so a one-word query matches a
 * share of the table that grows with it, as it would in production.
 */
const BRANDS = 'acme nordvik lumen orbit kestrel vantage halcyon ferro quill tundra zephyr cobalt'.split(' ');
const ADJECTIVES =
  'compact wireless portable rugged silent smart classic ergonomic foldable magnetic waterproof slim heavy light modular premium basic digital analog solar'.split(
    ' ',
  );
const NOUNS =
  'cable charger keyboard mouse monitor lamp kettle blender backpack tent stove bottle notebook pen stapler chair desk speaker headphones adapter router camera tripod drill wrench jacket boots mug grinder scale'.split(
    ' ',
  );
const WORDS =
  'made from recycled aluminium steel oak cotton with a two year warranty designed for home office travel kitchen garden workshop everyday use easy to clean quiet fast durable light compact fits most bags ships in plastic free packaging spare parts available'.split(
    ' ',
  );

export const CATEGORY_COUNT = 50;
export const QUERY_WORD = 'cable';
export const QUERY_PREFIX = 'headph';

/**
 * A small, fast, seedable PRNG (mulberry32), seeded per product: the same catalog on every run
 * and both databases, and any product can be made without the ones before it.
 */
class Random {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  pick(list: readonly string[]): string {
    return list[Math.floor(this.next() * list.length)]!;
  }
}

export function categoryId(i: number): string {
  return `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** Time-ordered ids, like the service's UUIDv7: bench rows sort before anything created later. */
export function productId(i: number): string {
  const hex = i.toString(16).padStart(20, '0');
  return `00000001-${hex.slice(0, 4)}-7${hex.slice(4, 7)}-8${hex.slice(7, 10)}-${hex.slice(10, 20)}aa`;
}

export interface BenchProduct {
  id: string;
  name: string;
  description: string;
  price_minor: number;
  category_id: string;
  in_stock: boolean;
}

export function* products(from: number, to: number): Generator<BenchProduct> {
  for (let i = from; i < to; i++) {
    const r = new Random(i + 1);
    let description = r.pick(WORDS);
    for (let w = 1; w < 10; w++) description += ` ${r.pick(WORDS)}`;
    const name = `${r.pick(BRANDS)} ${r.pick(ADJECTIVES)} ${r.pick(NOUNS)} ${Math.floor(r.next() * 9000) + 100}`;
    yield {
      id: productId(i),
      name,
      description: `${description}.`,
      price_minor: Math.floor(r.next() * 50_000) + 100,
      category_id: categoryId(Math.floor(r.next() * CATEGORY_COUNT)),
      in_stock: r.next() < 0.8,
    };
  }
}
