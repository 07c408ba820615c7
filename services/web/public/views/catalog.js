// @ts-check
/** The catalog: search and filters, a page of product cards, and the pager. */
/** @import { operations } from '../api/schema.generated.js' */
/** @import { Category } from '../lib/types.js' */
import { consoleLink } from '../lib/api.js';
import { h, render } from '../lib/dom.js';
import { money } from '../lib/format.js';
import { data, gateway } from '../lib/gateway.js';
import { applyLive, onLiveProduct } from '../lib/live.js';
import { errorBox } from '../lib/problems.js';

/** @param {URLSearchParams} params */
export async function catalogView(params) {
  const q = params.get('q') ?? '';
  const inStock = params.get('in_stock') === 'true';
  const categoryId = params.get('category_id') ?? '';
  const page = Number(params.get('page') ?? '1');
  /** @type {NonNullable<operations['getProducts']['parameters']['query']>} */
  const query = { page: Number.isInteger(page) && page > 0 ? page : 1, per_page: 12 };
  if (q) query.q = q;
  if (inStock) query.in_stock = true;
  if (categoryId) query.category_id = categoryId;

  const [list, categories] = await Promise.allSettled([
    data(gateway.GET('/api/v1/products', { params: { query } })),
    data(gateway.GET('/api/v1/categories', { params: { query: { per_page: 100 } } })),
  ]);
  /** @type {Category[]} */
  const categoryOptions = categories.status === 'fulfilled' ? categories.value.data : [];
  const names = new Map(categoryOptions.map((c) => [c.id, c.name]));

  const form = h(
    'form',
    { role: 'search', class: 'filters', action: '/products', method: 'get' },
    h(
      'div',
      { class: 'field grow' },
      h('label', { for: 'q' }, 'Search products'),
      h('input', { id: 'q', name: 'q', type: 'search', value: q, placeholder: 'Name or description' }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'category' }, 'Category'),
      h(
        'select',
        { id: 'category', name: 'category_id' },
        h('option', { value: '' }, 'All categories'),
        categoryOptions.map((c) => h('option', { value: c.id, selected: c.id === categoryId }, c.name)),
      ),
    ),
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'in_stock', value: 'true', checked: inStock }),
      ' In stock only',
    ),
    h('button', { type: 'submit' }, 'Search'),
  );

  if (list.status === 'rejected') return render('Catalog', form, errorBox(list.reason));
  const { data: products, pagination, links } = list.value;
  const pages = Math.max(1, Math.ceil(pagination.total / pagination.per_page));
  const summary = h(
    'p',
    { class: 'summary' },
    pagination.total === 0
      ? q
        ? `No products match “${q}”.`
        : 'No products here.'
      : `${pagination.total} product${pagination.total === 1 ? '' : 's'} · page ${pagination.page ?? query.page} of ${pages}`,
  );
  const items = h(
    'ul',
    { class: 'cards' },
    products.map((p) =>
      h(
        'li',
        { class: 'card' },
        h('h2', {}, h('a', { href: `/products/${encodeURIComponent(p.id)}` }, p.name)),
        h('p', { class: 'muted' }, names.get(p.category_id) ?? ''),
        h('p', { class: 'price', dataset: { priceFor: p.id } }, money(p.price, p.currency)),
        h('p', { class: 'stock', dataset: { stockFor: p.id } }, p.in_stock ? 'In stock' : 'Out of stock'),
      ),
    ),
  );
  const prev = consoleLink(links.previous, '/products');
  const next = consoleLink(links.next, '/products');
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    prev ? h('a', { href: prev, rel: 'prev' }, '← Previous') : h('span', { class: 'muted' }, '← Previous'),
    next ? h('a', { href: next, rel: 'next' }, 'Next →') : h('span', { class: 'muted' }, 'Next →'),
  );
  render('Catalog', form, summary, items, pager);
  onLiveProduct(applyLive);
}
