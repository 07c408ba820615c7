/**
 * Demo data for the embedded default: the demo categories and products, created once, into an
 * empty catalog only, in one transaction through the data modules, so a second start keeps
 * whatever the first one changed.
 */
import { type Database, isUniqueViolation, uuidv7 } from '@portico/store/sql';
import { categoriesTable } from '../data/categories.ts';
import { productsTable } from '../data/products.ts';
import type { CatalogDatabase } from '../data/schema.ts';
import { CURRENCY } from './money.ts';

const CATALOG: Record<string, { description: string; items: Array<[string, string, number]> }> = {
  Electronics: {
    description: 'Things with a battery or a plug',
    items: [
      ['Noise-cancelling headphones', 'Over-ear, 30 h battery, USB-C', 249.0],
      ['Mechanical keyboard', 'Tenkeyless, hot-swappable switches', 129.99],
      ['4K monitor', '27 inch IPS panel, 60 Hz', 399.5],
      ['Wireless mouse', 'Silent clicks, 18 months on one battery', 34.9],
      ['USB-C hub', 'HDMI, 3x USB-A, SD card, 100 W pass-through', 59.99],
      ['Webcam', '1080p with a privacy shutter', 79.0],
      ['Portable SSD', '1 TB, 1050 MB/s', 119.99],
      ['E-reader', 'Glare-free 6.8 inch display', 149.99],
      ['Smart speaker', 'Room-filling sound, voice control', 99.0],
      ['Fitness tracker', 'Heart rate and sleep tracking', 69.95],
      ['Power bank', '20,000 mAh, two ports', 44.5],
      ['Bluetooth earbuds', 'Water resistant, 8 h playback', 89.0],
    ],
  },
  Books: {
    description: 'Paper, ink and ideas',
    items: [
      ['Designing Data-Intensive Applications', 'Reliable, scalable and maintainable systems', 45.99],
      ['The Pragmatic Programmer', '20th anniversary edition', 39.95],
      ['Release It!', 'Design and deploy production-ready software', 42.0],
      ['Site Reliability Engineering', 'How Google runs production systems', 49.99],
      ['Refactoring', 'Improving the design of existing code', 47.5],
      ['Clean Architecture', 'A craftsman’s guide to software structure', 34.99],
      ['Building Microservices', 'Designing fine-grained systems', 52.0],
      ['RESTful Web APIs', 'Services for a changing world', 38.75],
      ['Learning GraphQL', 'Declarative data fetching', 29.99],
      ['OAuth 2 in Action', 'Tokens, clients and servers explained', 44.99],
      ['The Phoenix Project', 'A novel about IT and DevOps', 24.99],
      ['Thinking in Systems', 'A primer', 19.95],
    ],
  },
  Kitchen: {
    description: 'For cooks and coffee people',
    items: [
      ['Chef’s knife', '20 cm, forged steel', 89.0],
      ['Cast-iron skillet', '26 cm, pre-seasoned', 39.99],
      ['Pour-over coffee set', 'Dripper, carafe and filters', 32.5],
      ['Burr grinder', '40 grind settings', 119.0],
      ['Electric kettle', 'Variable temperature, 1.7 l', 64.99],
      ['Dutch oven', 'Enamelled, 5.5 l', 149.0],
      ['Cutting board', 'End-grain walnut', 74.0],
      ['Digital scale', '0.1 g precision', 22.99],
      ['Stand mixer', '4.8 l bowl, 10 speeds', 299.0],
      ['Spice rack', '24 glass jars', 36.0],
      ['Espresso cups', 'Set of four, double-walled', 27.5],
      ['Tea infuser', 'Stainless steel mesh', 9.99],
    ],
  },
  Outdoors: {
    description: 'For weekends away',
    items: [
      ['Trail running shoes', 'Grippy sole, 8 mm drop', 129.0],
      ['Daypack', '22 l, rain cover included', 79.99],
      ['Insulated bottle', '750 ml, keeps cold 24 h', 29.95],
      ['Headlamp', '400 lumens, rechargeable', 39.0],
      ['Camping stove', 'Compact gas burner', 54.99],
      ['Sleeping bag', 'Comfort to 2 °C', 189.0],
      ['Two-person tent', '1.9 kg, freestanding', 249.99],
      ['Trekking poles', 'Carbon, folding', 99.0],
      ['Rain jacket', 'Waterproof and breathable', 159.0],
      ['Camp chair', 'Packs to the size of a bottle', 69.0],
      ['First-aid kit', 'For two people, two days', 24.5],
      ['Compass', 'Baseplate with declination adjustment', 19.99],
    ],
  },
  Office: {
    description: 'A desk worth sitting at',
    items: [
      ['Standing desk', 'Electric, 120 x 70 cm', 449.0],
      ['Ergonomic chair', 'Adjustable lumbar support', 329.0],
      ['Desk lamp', 'Dimmable, warm to cool light', 49.99],
      ['Notebook', 'Dotted, 192 pages', 14.5],
      ['Fountain pen', 'Medium nib, converter included', 35.0],
      ['Monitor arm', 'Gas spring, up to 9 kg', 89.99],
      ['Cable organiser', 'Under-desk tray', 24.99],
      ['Whiteboard', '90 x 60 cm, magnetic', 59.0],
      ['Desk mat', 'Felt, 90 x 40 cm', 29.0],
      ['Document scanner', 'Duplex, 30 pages a minute', 279.0],
      ['Label printer', 'Thermal, USB and Bluetooth', 64.0],
      ['Headset stand', 'Aluminium with a USB hub', 39.99],
    ],
  },
};

/** A few items start out of stock, so the hypermedia actions differ between products. */
const OUT_OF_STOCK = new Set([
  '4K monitor',
  'Stand mixer',
  'Two-person tent',
  'Document scanner',
  'Refactoring',
]);

/**
 * Creates the demo catalog when there is no category yet; true if this call created it.
 * Replicas starting together may both find it empty: the one whose categories collide with the
 * other's (unique names) rolls back and leaves it to that one.
 */
export async function ensureDemoCatalog(database: Database<CatalogDatabase>): Promise<boolean> {
  return fill(database).catch((err) => {
    if (isUniqueViolation(err)) return false;
    throw err;
  });
}

function fill(database: Database<CatalogDatabase>): Promise<boolean> {
  return database.db.transaction().execute(async (trx) => {
    const categories = categoriesTable(trx);
    const products = productsTable(trx, database.dialect);
    if ((await categories.count()) > 0) return false;
    // One millisecond apart, so the ids (lists are in id order) keep the order of the table above.
    const base = Date.now();
    let n = 0;
    const now = new Date(base).toISOString();
    for (const [name, { description, items }] of Object.entries(CATALOG)) {
      const categoryId = uuidv7(base + n++);
      await categories.insert({ id: categoryId, name, description, created_at: now, updated_at: now });
      for (const [product, text, price] of items) {
        await products.insert({
          id: uuidv7(base + n++),
          name: product,
          description: text,
          price_minor: Math.round(price * 100),
          currency: CURRENCY,
          category_id: categoryId,
          in_stock: !OUT_OF_STOCK.has(product),
          version: 1,
          created_at: now,
          updated_at: now,
        });
      }
    }
    return true;
  });
}
