// @ts-check
/** The product create and edit form (views/new-product.js, the product's Edit action). */
/** @import { ProductBody } from '../lib/types.js' */
import { h, handledForm } from '../lib/dom.js';
import { data, gateway } from '../lib/gateway.js';
import { errorBox } from '../lib/problems.js';

/**
 * @callback SaveProduct
 * @param {ProductBody} body what the form says, over `initial`
 * @param {HTMLButtonElement} button the Save button
 * @param {HTMLDivElement} error where the form shows a failure
 * @returns {Promise<void>}
 */

/**
 * @param {Partial<ProductBody>} initial a product as the API serialises it
 * @param {SaveProduct} onSave
 */
export function productForm(initial, onSave) {
  const error = h('div', { role: 'alert' });
  const categorySelect = h('select', { id: 'p-category', name: 'category_id', required: true });
  data(gateway.GET('/api/v1/categories', { params: { query: { per_page: 100 } } }))
    .then((categories) => {
      categorySelect.replaceChildren(
        ...categories.data.map((c) =>
          h('option', { value: c.id, selected: c.id === initial.category_id }, c.name),
        ),
      );
    })
    .catch((err) => error.replaceChildren(errorBox(err)));
  const save = h('button', { type: 'submit' }, 'Save');
  const form = handledForm(
    {
      class: 'stack',
      novalidate: true,
    },
    async (f) => {
      const price = String(f.get('price')).trim();
      const body = {
        ...initial,
        name: String(f.get('name')),
        description: String(f.get('description')),
        price: /^-?\d+(\.\d+)?$/.test(price) ? Number(price) : price,
        category_id: String(f.get('category_id')),
        in_stock: f.get('in_stock') === 'on',
      };
      error.replaceChildren();
      await onSave(body, save, error);
    },
    h('label', { for: 'p-name' }, 'Name'),
    h('input', { id: 'p-name', name: 'name', required: true, maxlength: '200', value: initial.name ?? '' }),
    h('label', { for: 'p-description' }, 'Description'),
    h(
      'textarea',
      { id: 'p-description', name: 'description', rows: '3', maxlength: '5000' },
      initial.description ?? '',
    ),
    h('label', { for: 'p-price' }, 'Price'),
    h('input', {
      id: 'p-price',
      name: 'price',
      inputmode: 'decimal',
      required: true,
      value: initial.price ?? '',
    }),
    h('label', { for: 'p-category' }, 'Category'),
    categorySelect,
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'in_stock', checked: initial.in_stock !== false }),
      ' In stock',
    ),
    error,
    save,
  );
  return form;
}
