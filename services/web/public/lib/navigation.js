// @ts-check
/** Moving to another console page without a reload. The router says how a page is shown. */

let showPage = /** @type {(focus: boolean) => Promise<void>} */ (async () => {});

/** @param {(focus: boolean) => Promise<void>} show */
export function showPagesWith(show) {
  showPage = show;
}

/** @param {string} to a console path, with its query */
export function navigate(to) {
  history.pushState(null, '', to);
  return showPage(true);
}
