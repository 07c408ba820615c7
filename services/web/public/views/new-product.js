// @ts-check
/** An admin creates a product, then sees it. */
import { flash, h, render } from '../lib/dom.js';
import { data, gateway } from '../lib/gateway.js';
import { navigate } from '../lib/navigation.js';
import { errorBox } from '../lib/problems.js';
import { isAdmin } from '../lib/session.js';
import { productForm } from './product-form.js';

export async function newProductView() {
  if (!isAdmin()) return render('New product', h('p', {}, 'Only administrators can create products.'));
  const form = productForm({ in_stock: true }, async (body, button, error) => {
    button.disabled = true;
    try {
      const created = await data(gateway.POST('/api/v1/products', { body }));
      flash(`“${created.data.name}” was created.`);
      navigate(`/products/${encodeURIComponent(created.data.id)}`);
    } catch (err) {
      error.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  render('New product', form);
}
