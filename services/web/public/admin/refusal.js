// @ts-check
/** @import { Kit } from './kit.js' */

/**
 * Shows why an admin write was refused: a step-up refusal in the flash line, whose link signs
 * in again with two-step verification; any other in `box`, beside the form it came from.
 * @param {Kit} kit
 * @param {HTMLElement} box
 * @param {unknown} err
 */
export function showRefusal(kit, box, err) {
  if (err instanceof kit.ApiError && err.problem.code === 'INSUFFICIENT_USER_AUTHENTICATION')
    kit.flashError(err);
  else box.replaceChildren(kit.h('p', { class: 'flash-error' }, kit.describe(err)));
}
