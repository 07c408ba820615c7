// @ts-check
/**
 * Views are built with DOM calls, never HTML strings, so API data cannot inject markup.
 */

/** The page's element with this id (index.html has it). */
export function byId(/** @type {string} */ id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el;
}

export const main = byId('main');
/** The line under the header, which stays until the next navigation. */
export const flashBox = byId('flash');

/**
 * An element: `on*` attributes are listeners, `dataset` sets data-*, `true` is an empty
 * attribute, and null, undefined and false leave it out (children too).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...unknown} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * A form whose submit hands its fields to `onSubmit` instead of loading a page.
 * @param {Record<string, unknown>} attrs
 * @param {(fields: FormData) => unknown} onSubmit
 * @param {...unknown} children
 */
export function handledForm(attrs, onSubmit, ...children) {
  const form = h(
    'form',
    {
      ...attrs,
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        return onSubmit(new FormData(form));
      },
    },
    ...children,
  );
  return form;
}

/**
 * A table: its caption if any, a column header cell per heading, then the rows.
 * @param {unknown[]} headings
 * @param {unknown[]} rows
 * @param {Record<string, unknown> & { caption?: string }} [attrs]
 */
export function table(headings, rows, { caption, ...attrs } = {}) {
  return h(
    'table',
    attrs,
    caption === undefined ? undefined : h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headings.map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/**
 * The view: its title (the page's too) and what follows it.
 * @param {string} title
 * @param {...unknown} children
 */
export function render(title, ...children) {
  document.title = `${title} · Portico`;
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, title),
    .../** @type {(Node | string)[]} */ (
      children.filter((c) => c !== null && c !== undefined && c !== false)
    ),
  );
}

/**
 * @param {string} message
 * @param {string} [kind]
 */
export function flash(message, kind = 'info') {
  flashBox.replaceChildren(h('p', { class: `flash-${kind}` }, message));
}
