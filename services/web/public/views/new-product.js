// @ts-check
/** An admin creates a product, then sees it. */
import { api } from '../lib/api.js';
import { flash, h, render } from '../lib/dom.js';
import { navigate } from '../lib/navigation.js';
import { errorBox } from '../lib/problems.js';
import { isAdmin } from '../lib/session.js';
import { productForm } from './product-form.js';

export async function newProductView() {
  if (!isAdmin()) return render('New product', h('p', {}, 'Only administrators can create products.'));
  const form = productForm({ in_stock: true }, async (body, button, error) => {
    button.disabled = true;
    try {
      const { data } = await api('POST', '/api/v1/products', { body });
      flash(`“${data.data.name}” was created.`);
      navigate(`/products/${encodeURIComponent(data.data.id)}`);
    } catch (err) {
      error.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  render('New product', form);
}
